//! Chinese addresses: China's administrative divisions (GB/T 2260) and the splitting of a
//! one-line address into its parts.
//!
//! Addresses are stored as parts (country, province/state, city, district, street, postal code).
//! For China those parts are a fixed tree, so the form can offer a province → city → district
//! picker instead of free text ([`provinces`], [`children`]), and an address pasted or imported
//! as one line (北京市丰台区科技园路382号) can be put into the parts ([`split_line`]). Other
//! countries keep free-text parts: no such data ships for them, and their lines are not split.
//!
//! [`region_names`] also serves company-name matching, which strips a leading region
//! (北京 in 北京中太数据科技有限公司).

mod divisions;
mod split;

pub use divisions::{Division, by_code, children, find_child_by_name, provinces, region_names};
pub use split::{MAX_LINE_CHARS, SplitAddress, split_line};
