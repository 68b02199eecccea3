//! A record's history as people read it: who did what when, and each field's change, in the
//! reader's words. The record page's history tab and the timeline's change entries show it.

/// One field's change: its label, and the values before and after as the reader reads them.
pub struct Change {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// One entry of a record's history.
pub struct HistoryLine {
    /// When, as the reader reads it; `at_iso` for machines.
    pub at: String,
    pub at_iso: String,
    pub actor: String,
    pub action: String,
    pub changes: Vec<Change>,
}
