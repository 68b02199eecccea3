//! The options of a select, one shape for every picker on every page.

/// More options than people scan by eye: a picker with more searches them as you type.
pub const MANY: usize = 12;

/// An option of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    /// What a picker that searches its options (`select[data-search]`, see `app.js`) also
    /// matches the option by besides its label: the pinyin of a Chinese label, run together and
    /// as initials, so that `zhouting` and `zt` find 周婷 without a Chinese input method.
    pub fn keys(&self) -> String {
        let tokens = guanxi_core::search::text::pinyin_tokens(&self.label);
        // The syllables one by one are in the run-together form already: keep the last two.
        let n = tokens.len();
        tokens[n.saturating_sub(2)..].join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_labels_are_found_by_pinyin() {
        let o = |label: &str| Opt {
            value: String::new(),
            label: label.into(),
            selected: false,
        };
        assert_eq!(o("周婷").keys(), "zhouting zt");
        assert_eq!(o("Emily Carter").keys(), "");
    }
}
