//! Model settings written as JSON over their defaults: any subset of the fields, nested objects
//! included, so a change to one weight need not restate the others. An unknown key is refused
//! with its dotted path: a misspelt one would otherwise be ignored and its author would believe
//! it applied. The CLI's `--settings FILE` and the product's stored insight settings read the
//! same way.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why settings cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    /// The settings are not a JSON object.
    #[error("settings must be a JSON object")]
    NotAnObject,
    /// A key the model does not have, as a dotted path (`weights.tenur`).
    #[error("unknown setting `{0}`")]
    UnknownKey(String),
    /// A value of the wrong type, or out of its range.
    #[error("{0}")]
    Invalid(String),
}

/// `defaults` with `user`'s fields laid over them at any depth.
pub fn overlay<T: Serialize + DeserializeOwned>(
    defaults: &T,
    user: Value,
) -> Result<T, SettingsError> {
    if !user.is_object() {
        return Err(SettingsError::NotAnObject);
    }
    let mut merged =
        serde_json::to_value(defaults).map_err(|e| SettingsError::Invalid(e.to_string()))?;
    merge(&mut merged, user, "").map_err(SettingsError::UnknownKey)?;
    serde_json::from_value(merged).map_err(|e| SettingsError::Invalid(e.to_string()))
}

/// Overlays `user` on `base`; the error is the dotted path of a key `base` does not have.
fn merge(base: &mut Value, user: Value, prefix: &str) -> Result<(), String> {
    match (base, user) {
        (Value::Object(b), Value::Object(u)) => {
            for (k, v) in u {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v, &key)?,
                    None => return Err(key),
                }
            }
        }
        (slot, v) => *slot = v,
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[test]
    fn merge_overrides_nested_fields_and_names_unknown_keys() {
        let mut base = json!({"weights": {"a": 1, "b": 2}, "c": 3});
        merge(&mut base, json!({"weights": {"b": 5}, "c": [1, 2]}), "").unwrap();
        assert_eq!(base, json!({"weights": {"a": 1, "b": 5}, "c": [1, 2]}));
        let mut base = json!({"weights": {"a": 1}});
        assert_eq!(
            merge(&mut base, json!({"weights": {"z": 1}}), ""),
            Err("weights.z".to_string())
        );
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Model {
        floor: f64,
        days: i64,
    }

    #[test]
    fn overlay_keeps_defaults_and_refuses_what_does_not_fit() {
        let m: Model = overlay(
            &Model {
                floor: 0.6,
                days: 180,
            },
            json!({"days": 90}),
        )
        .unwrap();
        assert_eq!(
            m,
            Model {
                floor: 0.6,
                days: 90
            }
        );
        assert_eq!(
            overlay(&Model::default(), json!({"dayz": 1})),
            Err::<Model, _>(SettingsError::UnknownKey("dayz".into()))
        );
        assert!(matches!(
            overlay(&Model::default(), json!({"days": "many"})),
            Err::<Model, _>(SettingsError::Invalid(_))
        ));
        assert_eq!(
            overlay(&Model::default(), json!([1])),
            Err::<Model, _>(SettingsError::NotAnObject)
        );
    }
}
