//! Model settings from a JSON file for `guanxi analytics … --settings FILE`: the file's fields
//! override the defaults (which `--print-settings` shows) at any depth.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `--settings FILE` and `--print-settings`, shared by the commands whose model has settings
/// (bands, weights, thresholds).
#[derive(Args, Debug, Clone)]
pub struct SettingsArgs {
    /// The model's settings as JSON: any subset of the fields `--print-settings` shows, nested
    /// objects included; missing fields keep their defaults, unknown ones are an error.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Print the settings in effect as JSON and exit.
    #[arg(long)]
    pub print_settings: bool,
}

impl SettingsArgs {
    /// The defaults with the file's overrides, if a file was given.
    pub fn load<T: Serialize + DeserializeOwned + Default>(&self, what: &str) -> anyhow::Result<T> {
        match &self.settings {
            Some(path) => read_settings(path, &T::default(), what),
            None => Ok(T::default()),
        }
    }
}

/// Reads a JSON configuration whose fields override `defaults` at any depth, so a file can change
/// one weight without restating the others. An unknown key is an error: a misspelt one would
/// otherwise be ignored and the user would believe it applied.
pub fn read_settings<T: Serialize + DeserializeOwned>(
    path: &Path,
    defaults: &T,
    what: &str,
) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let user: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    anyhow::ensure!(
        user.is_object(),
        "{} must hold a JSON object",
        path.display()
    );
    guanxi_analytics::settings::overlay(defaults, user).map_err(|e| match e {
        guanxi_analytics::settings::SettingsError::UnknownKey(key) => {
            anyhow::anyhow!("{}: unknown {what} setting `{key}`", path.display())
        }
        e => anyhow::anyhow!("{}: invalid {what} configuration: {e}", path.display()),
    })
}
