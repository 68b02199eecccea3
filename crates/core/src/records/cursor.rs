//! Opaque cursors. Mostly keyset cursors: the sort key and id of the last row a page showed, so
//! the next page starts after it with an index seek and page 10,000 costs what page 1 costs.
//! A list whose total is known exactly (up to the count's cap) also offers page numbers and a
//! previous page; those pages start at an offset ([`Cursor::at_offset`]), which reads the rows
//! before it, so an offset is allowed only up to that cap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// The sort this cursor belongs to, e.g. `-created_at`.
    pub s: String,
    /// The sort column's value in the last row, in the JSON form of its type
    /// ([`super::values::SortType`]); `null` for a blank.
    #[serde(default)]
    pub v: serde_json::Value,
    /// The last row's id (the tiebreak).
    #[serde(default)]
    pub id: Uuid,
    /// For a page that starts at a row number instead: how many rows come before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<u64>,
}

impl Cursor {
    /// The page that starts after `rows` rows of the list in sort `sort`.
    pub fn at_offset(sort: &str, rows: u64) -> Cursor {
        Cursor {
            s: sort.to_string(),
            v: serde_json::Value::Null,
            id: Uuid::nil(),
            o: Some(rows),
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str, sort: &str) -> CoreResult<Cursor> {
        let bad = || {
            CoreError::bad_request(
                "invalid_cursor",
                "the cursor is malformed; start again from the first page",
            )
        };
        if s.len() > 2000 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if c.s != sort {
            return Err(CoreError::bad_request(
                "invalid_cursor",
                format!("the cursor belongs to sort '{}', not '{sort}'", c.s),
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = Cursor {
            s: "name".into(),
            v: serde_json::json!("北京"),
            id: Uuid::now_v7(),
            o: None,
        };
        assert_eq!(Cursor::decode(&c.encode(), "name").unwrap(), c);
        assert!(Cursor::decode(&c.encode(), "-name").is_err());
        assert!(Cursor::decode("!!!", "name").is_err());
        assert!(Cursor::decode("e30", "name").is_err());
        let at = Cursor::at_offset("name", 150);
        assert_eq!(Cursor::decode(&at.encode(), "name").unwrap().o, Some(150));
    }
}
