//! Release records in Helm's storage format, so `helm list/history/get` see orch's releases.
