use crate::sync::status::ReleaseStatus;

pub fn table(statuses: &[ReleaseStatus]) -> String {
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|s| {
            vec![
                s.release.clone(),
                s.revision.map_or("-".into(), |r| r.to_string()),
                s.status.clone().unwrap_or_else(|| "not installed".into()),
                format!("{}/{}", s.ready, s.total),
                if s.drift { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    super::table(&["RELEASE", "REVISION", "STATUS", "READY", "DRIFT"], &rows)
}
