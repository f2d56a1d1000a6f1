//! `orch history`: a release's revisions as `helm history` shows them, in its columns and
//! with its JSON keys, so scripts written for one read the other.

use serde::Serialize;

use crate::record::ReleaseRecord;

/// One revision, with `helm history -o json`'s keys.
#[derive(Debug, Serialize)]
pub struct RevisionLine {
    pub revision: u32,
    pub updated: jiff::Timestamp,
    pub status: &'static str,
    pub chart: String,
    pub app_version: String,
    pub description: String,
}

/// The last `max` revisions, oldest first (0: all).
pub fn lines(records: &[ReleaseRecord], max: usize) -> Vec<RevisionLine> {
    let skip = if max == 0 {
        0
    } else {
        records.len().saturating_sub(max)
    };
    records
        .iter()
        .skip(skip)
        .map(|record| RevisionLine {
            revision: record.version,
            updated: record.info.last_deployed,
            status: record.info.status.as_str(),
            chart: format!(
                "{}-{}",
                record.chart.metadata.name, record.chart.metadata.version
            ),
            app_version: record.chart.metadata.app_version.clone(),
            description: record.info.description.clone(),
        })
        .collect()
}

/// helm's table; times in the local time zone, as helm prints them (Go's ANSIC layout).
pub fn table(lines: &[RevisionLine]) -> String {
    let zone = jiff::tz::TimeZone::system();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|line| {
            vec![
                line.revision.to_string(),
                line.updated
                    .to_zoned(zone.clone())
                    .strftime("%a %b %e %H:%M:%S %Y")
                    .to_string(),
                line.status.to_string(),
                line.chart.clone(),
                line.app_version.clone(),
                line.description.clone(),
            ]
        })
        .collect();
    super::table(
        &[
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
            "DESCRIPTION",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use crate::record::{ReleaseRecord, Revision, Status};

    #[test]
    fn lines_are_the_latest_revisions_in_helms_terms() {
        let mut records: Vec<ReleaseRecord> = Vec::new();
        for description in ["Install complete", "Upgrade complete", "Rollback to 1"] {
            let mut revision = Revision::default();
            revision.chart.metadata.name = "app".into();
            revision.chart.metadata.version = "1.0.0".into();
            let mut record = ReleaseRecord::pending(revision, &records, Timestamp::UNIX_EPOCH);
            record.finish(Status::Deployed, description);
            records.push(record);
        }
        let lines = super::lines(&records, 2);
        assert_eq!(lines.iter().map(|l| l.revision).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(lines[1].chart, "app-1.0.0");
        assert_eq!(lines[1].description, "Rollback to 1");
        assert_eq!(super::lines(&records, 0).len(), 3, "0 shows all");
        let json = serde_json::to_value(&lines[1]).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "revision",
                "updated",
                "status",
                "chart",
                "app_version",
                "description"
            ]
        );
    }
}
