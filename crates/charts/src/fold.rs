//! Folding a long tail into one category. Forty owners make an unreadable pie and a bar chart
//! taller than the phone; the largest few plus "others" tell the same story.

use crate::figures::clean;

/// The `n` largest categories, largest first, followed by one `other_label` category holding
/// the sum of the rest (only when there is a rest). Ties keep the caller's order; missing
/// values count as 0 and values beyond the categories are ignored, as in [`crate::render`].
pub fn top(
    categories: &[String],
    values: &[f64],
    n: usize,
    other_label: &str,
) -> (Vec<String>, Vec<f64>) {
    let mut rows: Vec<(usize, f64)> = (0..categories.len())
        .map(|i| (i, values.get(i).copied().map_or(0.0, clean)))
        .collect();
    // Stable sort: equal values keep the caller's order, so the output is deterministic.
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let rest: f64 = rows.iter().skip(n).map(|r| r.1).sum();
    let folded = rows.len() > n;
    rows.truncate(n);
    let mut names: Vec<String> = rows.iter().map(|r| categories[r.0].clone()).collect();
    let mut kept: Vec<f64> = rows.iter().map(|r| r.1).collect();
    if folded {
        names.push(other_label.to_string());
        kept.push(rest);
    }
    (names, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_the_largest_and_sums_the_rest() {
        let cats = names(&["张伟", "王芳", "李娜", "欧阳明", "刘洋"]);
        let (c, v) = top(&cats, &[5.0, 30.0, 10.0, 20.0, 1.0], 2, "其他");
        assert_eq!(c, names(&["王芳", "欧阳明", "其他"]));
        assert_eq!(v, vec![30.0, 20.0, 16.0]);
    }

    #[test]
    fn no_other_category_when_nothing_is_folded() {
        let cats = names(&["a", "b"]);
        let (c, v) = top(&cats, &[1.0, 2.0], 2, "Other");
        assert_eq!(c, names(&["b", "a"]));
        assert_eq!(v, vec![2.0, 1.0]);
    }

    #[test]
    fn ties_keep_input_order_and_bad_values_count_as_zero() {
        let cats = names(&["a", "b", "c", "d"]);
        let (c, v) = top(&cats, &[1.0, f64::NAN, 1.0], 2, "Other");
        assert_eq!(c, names(&["a", "c", "Other"]));
        assert_eq!(v, vec![1.0, 1.0, 0.0]);
    }

    #[test]
    fn short_values_count_as_zero_and_extra_values_are_ignored() {
        let cats = names(&["a", "b", "c"]);
        let (c, v) = top(&cats, &[1.0], 1, "Other");
        assert_eq!(c, names(&["a", "Other"]));
        assert_eq!(v, vec![1.0, 0.0]);
        let (c, v) = top(&names(&["a"]), &[1.0, 50.0], 5, "Other");
        assert_eq!((c, v), (names(&["a"]), vec![1.0]));
    }

    #[test]
    fn zero_kept_folds_everything_and_empty_input_stays_empty() {
        let cats = names(&["a", "b"]);
        assert_eq!(
            top(&cats, &[1.0, 2.0], 0, "All"),
            (names(&["All"]), vec![3.0])
        );
        assert_eq!(top(&[], &[1.0], 3, "Other"), (vec![], vec![]));
    }
}
