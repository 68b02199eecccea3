//! The kinds of duplicate-check rules and what a match does by default.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of duplicate-check rule: which key of a record is compared with the same key of the
/// records already stored. The codes (`as_str`) are stable: they are stored in settings and
/// sent over the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The unified social credit code (统一社会信用代码) or another tax id, as
    /// [`crate::normalize::tax_id`] normalizes it. One company has one.
    TaxId,
    /// The company's web domain ([`crate::normalize::domain_of_website`]).
    Domain,
    /// A phone number in E.164 ([`crate::normalize::phone_e164`]).
    Phone,
    /// An e-mail address ([`crate::normalize::email`]).
    Email,
    /// The company name key ([`super::company_name_key`]).
    Name,
    /// The pinyin of the company name key ([`super::pinyin_key`]): homophones meet.
    NamePinyin,
    /// A contact's name key ([`super::person_name_key`]).
    PersonName,
    /// The record's id in another system (an ERP's customer number), trimmed: one record each.
    ExternalId,
}

/// What a match does: warn the user and let them save anyway, or refuse the save.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Warn,
    Block,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::TaxId,
        Rule::Domain,
        Rule::Phone,
        Rule::Email,
        Rule::Name,
        Rule::NamePinyin,
        Rule::PersonName,
        Rule::ExternalId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::TaxId => "tax_id",
            Rule::Domain => "domain",
            Rule::Phone => "phone",
            Rule::Email => "email",
            Rule::Name => "name",
            Rule::NamePinyin => "name_pinyin",
            Rule::PersonName => "person_name",
            Rule::ExternalId => "external_id",
        }
    }

    /// The rule with code `code`, if any.
    pub fn parse(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// What a match does unless an admin says otherwise. A tax id is unique by law, and another
    /// system's id names one record, so a second record with one is an error; every other key
    /// is shared by distinct customers often enough (a group's switchboard, a reseller's domain,
    /// two 张伟) that it only warns.
    pub fn default_action(self) -> Action {
        match self {
            // Another system's id names one record of its own.
            Rule::TaxId | Rule::ExternalId => Action::Block,
            Rule::Domain
            | Rule::Phone
            | Rule::Email
            | Rule::Name
            | Rule::NamePinyin
            | Rule::PersonName => Action::Warn,
        }
    }
}

impl Action {
    pub const ALL: [Action; 2] = [Action::Warn, Action::Block];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Warn => "warn",
            Action::Block => "block",
        }
    }

    /// The action with code `code`, if any.
    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == code)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Rule::parse(s).ok_or_else(|| {
            let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown duplicate rule '{s}' ({})", codes.join(", "))
        })
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Action::parse(s).ok_or_else(|| format!("unknown duplicate action '{s}' (warn, block)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_round_trip() {
        let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            codes,
            [
                "tax_id",
                "domain",
                "phone",
                "email",
                "name",
                "name_pinyin",
                "person_name",
                "external_id"
            ]
        );
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.as_str()), Some(rule));
            assert_eq!(rule.to_string().parse::<Rule>(), Ok(rule));
            let json = serde_json::to_string(&rule).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", rule.as_str()));
        }
        assert_eq!(Rule::parse("TaxId"), None);
        assert_eq!(Rule::parse(""), None);
        assert!("nope".parse::<Rule>().is_err());
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
            assert_eq!(action.to_string().parse::<Action>(), Ok(action));
        }
        assert_eq!(Action::parse("Block"), None);
    }

    #[test]
    fn only_tax_id_and_external_id_block() {
        for rule in Rule::ALL {
            let want = if matches!(rule, Rule::TaxId | Rule::ExternalId) {
                Action::Block
            } else {
                Action::Warn
            };
            assert_eq!(rule.default_action(), want, "{rule}");
        }
    }
}
