//! Cross-sell: association rules from order baskets (FP-growth) and the next best products for
//! each customer.
//!
//! # Source
//!
//! Frequent itemsets by FP-growth: Han, J., Pei, J. & Yin, Y. (2000), "Mining frequent patterns
//! without candidate generation", *Proc. ACM SIGMOD*, 1–12 — the FP-tree of their §2 (Algorithm 1)
//! and the recursive mining of conditional pattern bases of §3 (Algorithm 2, "FP-growth").
//! Rules and their measures: Agrawal, Imieliński & Swami (1993), *Proc. ACM SIGMOD*, 207–216
//! (support, confidence); Brin, Motwani, Ullman & Tsur (1997), *Proc. ACM SIGMOD* (lift,
//! conviction); Piatetsky-Shapiro (1991) (leverage). For a rule `A ⇒ C` over `N` baskets:
//!
//! ```text
//! support(X)    = #{baskets containing X} / N                                        (1)
//! confidence    = support(A ∪ C) / support(A)                                        (2)
//! lift          = confidence / support(C)                                            (3)
//! leverage      = support(A ∪ C) − support(A) · support(C)                           (4)
//! conviction    = (1 − support(C)) / (1 − confidence)   (infinite when confidence = 1)   (5)
//! ```
//!
//! An itemset is frequent when its count reaches `ceil(min_support · N)`.
//!
//! # For a sales manager
//!
//! - **Support** — how common the combination is: 0.05 means 5% of all orders contain it.
//! - **Confidence** — of the orders with the first products, the share that also had the next
//!   one: "62% of customers who buy printers also buy toner".
//! - **Lift** — how much more likely the next product is with the first ones than in general;
//!   above 1 the products go together, 1 means no relation, below 1 they substitute.
//! - **Next best products** — for each customer, the products they do not have yet that
//!   customers like them buy, best first, each with the rule that justifies it.
//!
//! # CLI notes
//!
//! `guanxi analytics rules --transactions FILE [--min-support 0.01] [--min-confidence 0.3]
//! [--max-len N] [--top N]`: needs `order_id` and `product` columns; one [`Basket`] per order id
//! (falling back to customer+date when there is no order id) with the distinct products; call
//! [`analyze`]. Print [`CrossSellReport::rules`] as the table; [`CrossSellReport::recommendations`]
//! per customer as CSV (`customer_id, rank, product, confidence, lift, because`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::transactions::Transactions;

/// Errors from the cross-sell analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CrossSellError {
    /// Minimum support outside (0, 1].
    #[error("min_support must be in (0, 1] (got {0})")]
    BadSupport(f64),
    /// Minimum confidence outside [0, 1].
    #[error("min_confidence must be in [0, 1] (got {0})")]
    BadConfidence(f64),
    /// No baskets.
    #[error("no baskets")]
    NoBaskets,
}

/// One order basket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Basket {
    /// Customer who placed it.
    pub customer_id: String,
    /// Products in it (duplicates are ignored).
    pub items: Vec<String>,
}

/// Order baskets from parsed [`Transactions`] (needs the `product` column; baskets are grouped by
/// `order_id`, or by customer and day without one). Empty when there are no products.
pub fn baskets_from_transactions(tx: &Transactions) -> Vec<Basket> {
    tx.baskets().iter().map(|b| Basket::named(tx, b)).collect()
}

impl Basket {
    /// A basket of `tx` with its customer and products by name.
    pub fn named(tx: &Transactions, b: &crate::transactions::Basket) -> Basket {
        Basket {
            customer_id: tx.customer_id(b.customer).to_string(),
            items: b
                .products
                .iter()
                .filter_map(|p| tx.product(*p).map(str::to_string))
                .collect(),
        }
    }
}

/// Configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CrossSellConfig {
    /// Minimum support of an itemset (fraction of baskets).
    pub min_support: f64,
    /// Minimum confidence of a rule.
    pub min_confidence: f64,
    /// Longest itemset to mine (`None` = no limit).
    pub max_len: Option<usize>,
    /// Minimum lift for a rule to drive a recommendation.
    pub min_recommendation_lift: f64,
    /// Recommendations per customer.
    pub top_n: usize,
}

impl Default for CrossSellConfig {
    fn default() -> Self {
        Self {
            min_support: 0.01,
            min_confidence: 0.3,
            max_len: None,
            min_recommendation_lift: 1.0,
            top_n: 3,
        }
    }
}

/// A frequent itemset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Itemset {
    /// Products, sorted by name.
    pub items: Vec<String>,
    /// Baskets containing all of them.
    pub count: u64,
    /// Support, equation (1).
    pub support: f64,
}

/// An association rule `antecedent ⇒ consequent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// If the basket has these…
    pub antecedent: Vec<String>,
    /// …it tends to have these.
    pub consequent: Vec<String>,
    /// Support of antecedent ∪ consequent.
    pub support: f64,
    /// Support of the antecedent.
    pub antecedent_support: f64,
    /// Support of the consequent.
    pub consequent_support: f64,
    /// Confidence, equation (2).
    pub confidence: f64,
    /// Lift, equation (3).
    pub lift: f64,
    /// Leverage, equation (4).
    pub leverage: f64,
    /// Conviction, equation (5); `None` when infinite.
    pub conviction: Option<f64>,
}

/// One recommended product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Customer identifier.
    pub customer_id: String,
    /// 1 = best.
    pub rank: usize,
    /// The product to offer.
    pub product: String,
    /// Confidence of the rule behind it.
    pub confidence: f64,
    /// Lift of the rule behind it.
    pub lift: f64,
    /// Support of the rule behind it.
    pub support: f64,
    /// The products the customer holds that triggered the rule.
    pub because: Vec<String>,
    /// Explanation, English.
    pub reason_en: String,
    /// Explanation, Chinese.
    pub reason_zh: String,
}

/// The cross-sell result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossSellReport {
    /// Baskets analysed.
    pub baskets: usize,
    /// Frequent itemsets, by support (desc), then size, then items.
    pub itemsets: Vec<Itemset>,
    /// Rules with confidence ≥ the minimum, by confidence, lift (desc), then items.
    pub rules: Vec<Rule>,
    /// Next best products, by customer id then rank.
    pub recommendations: Vec<Recommendation>,
}

/// An FP-tree (Han, Pei & Yin 2000, §2). Items are ranks: 0 = most frequent.
struct FpTree {
    /// (item, count, parent); node 0 is the root.
    nodes: Vec<(u32, u64, u32)>,
    children: HashMap<(u32, u32), u32>,
    /// Node-links: the nodes of each item.
    header: Vec<Vec<u32>>,
}

impl FpTree {
    fn new(items: usize) -> Self {
        Self {
            nodes: vec![(u32::MAX, 0, u32::MAX)],
            children: HashMap::new(),
            header: vec![Vec::new(); items],
        }
    }

    /// Inserts a path of items (in rank order) with a count.
    fn insert(&mut self, path: &[u32], count: u64) {
        let mut node = 0u32;
        for &item in path {
            node = match self.children.get(&(node, item)) {
                Some(&child) => {
                    self.nodes[child as usize].1 += count;
                    child
                }
                None => {
                    let id = self.nodes.len() as u32;
                    self.nodes.push((item, count, node));
                    self.children.insert((node, item), id);
                    self.header[item as usize].push(id);
                    id
                }
            };
        }
    }

    /// The prefix path above a node (root excluded), in rank order.
    fn prefix(&self, node: u32) -> Vec<u32> {
        let mut path = Vec::new();
        let mut p = self.nodes[node as usize].2;
        while p != 0 && p != u32::MAX {
            path.push(self.nodes[p as usize].0);
            p = self.nodes[p as usize].2;
        }
        path.reverse();
        path
    }
}

/// Mines `tree` for itemsets ending in `suffix` (Algorithm 2, FP-growth).
fn mine(
    tree: &FpTree,
    suffix: &mut Vec<u32>,
    min_count: u64,
    max_len: usize,
    out: &mut Vec<(Vec<u32>, u64)>,
) {
    for item in (0..tree.header.len()).rev() {
        let nodes = &tree.header[item];
        let support: u64 = nodes.iter().map(|&n| tree.nodes[n as usize].1).sum();
        if support < min_count {
            continue;
        }
        suffix.push(item as u32);
        out.push((suffix.clone(), support));
        if suffix.len() < max_len {
            // conditional pattern base of `item`
            let base: Vec<(Vec<u32>, u64)> = nodes
                .iter()
                .map(|&n| (tree.prefix(n), tree.nodes[n as usize].1))
                .filter(|(p, _)| !p.is_empty())
                .collect();
            let mut counts = vec![0u64; item];
            for (p, c) in &base {
                for &i in p {
                    counts[i as usize] += c;
                }
            }
            if counts.iter().any(|&c| c >= min_count) {
                let mut cond = FpTree::new(item);
                for (p, c) in &base {
                    let kept: Vec<u32> = p
                        .iter()
                        .copied()
                        .filter(|&i| counts[i as usize] >= min_count)
                        .collect();
                    if !kept.is_empty() {
                        cond.insert(&kept, *c);
                    }
                }
                mine(&cond, suffix, min_count, max_len, out);
            }
        }
        suffix.pop();
    }
}

/// Frequent itemsets of the baskets by FP-growth. Each basket is a list of products (duplicates
/// ignored).
pub fn frequent_itemsets(
    baskets: &[Vec<String>],
    min_support: f64,
    max_len: Option<usize>,
) -> Result<Vec<Itemset>, CrossSellError> {
    if !(min_support > 0.0 && min_support <= 1.0) {
        return Err(CrossSellError::BadSupport(min_support));
    }
    let n = baskets.len();
    if n == 0 {
        return Err(CrossSellError::NoBaskets);
    }
    let min_count = ((min_support * n as f64).ceil() as u64).max(1);
    let sets: Vec<BTreeSet<&str>> = baskets
        .iter()
        .map(|b| b.iter().map(String::as_str).collect())
        .collect();
    let mut freq: HashMap<&str, u64> = HashMap::new();
    for s in &sets {
        for i in s {
            *freq.entry(i).or_insert(0) += 1;
        }
    }
    let mut items: Vec<(&str, u64)> = freq.into_iter().filter(|(_, c)| *c >= min_count).collect();
    // rank: most frequent first, then by name (deterministic)
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let rank: HashMap<&str, u32> = items
        .iter()
        .enumerate()
        .map(|(r, (i, _))| (*i, r as u32))
        .collect();
    let mut tree = FpTree::new(items.len());
    for s in &sets {
        let mut path: Vec<u32> = s.iter().filter_map(|i| rank.get(i).copied()).collect();
        path.sort_unstable();
        if !path.is_empty() {
            tree.insert(&path, 1);
        }
    }
    let mut raw = Vec::new();
    mine(
        &tree,
        &mut Vec::new(),
        min_count,
        max_len.unwrap_or(usize::MAX).max(1),
        &mut raw,
    );
    let mut out: Vec<Itemset> = raw
        .into_iter()
        .map(|(set, count)| {
            let mut names: Vec<String> = set
                .iter()
                .map(|&r| items[r as usize].0.to_string())
                .collect();
            names.sort();
            Itemset {
                items: names,
                count,
                support: count as f64 / n as f64,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.items.len().cmp(&b.items.len()))
            .then_with(|| a.items.cmp(&b.items))
    });
    Ok(out)
}

/// Association rules from frequent itemsets (all non-empty proper subsets as antecedents), with
/// confidence at least `min_confidence`.
pub fn association_rules(
    itemsets: &[Itemset],
    min_confidence: f64,
) -> Result<Vec<Rule>, CrossSellError> {
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(CrossSellError::BadConfidence(min_confidence));
    }
    let support: HashMap<&[String], f64> = itemsets
        .iter()
        .map(|s| (s.items.as_slice(), s.support))
        .collect();
    let mut rules = Vec::new();
    for set in itemsets.iter().filter(|s| s.items.len() >= 2) {
        let k = set.items.len();
        if k >= 63 {
            continue; // subsets would not fit a u64 mask; never reached in practice
        }
        for mask in 1..(1u64 << k) - 1 {
            let (mut a, mut c) = (Vec::new(), Vec::new());
            for (i, item) in set.items.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    a.push(item.clone());
                } else {
                    c.push(item.clone());
                }
            }
            let (Some(&sa), Some(&sc)) = (support.get(a.as_slice()), support.get(c.as_slice()))
            else {
                continue;
            };
            let confidence = set.support / sa;
            if confidence < min_confidence {
                continue;
            }
            rules.push(Rule {
                antecedent: a,
                consequent: c,
                support: set.support,
                antecedent_support: sa,
                consequent_support: sc,
                confidence,
                lift: confidence / sc,
                leverage: set.support - sa * sc,
                conviction: (confidence < 1.0).then(|| (1.0 - sc) / (1.0 - confidence)),
            });
        }
    }
    rules.sort_by(|x, y| {
        y.confidence
            .total_cmp(&x.confidence)
            .then(y.lift.total_cmp(&x.lift))
            .then_with(|| x.antecedent.cmp(&y.antecedent))
            .then_with(|| x.consequent.cmp(&y.consequent))
    });
    Ok(rules)
}

/// Next best products for each customer: products that are the single consequent of a rule whose
/// antecedent the customer holds, that the customer does not hold, with lift at least
/// `min_lift`; each product scored by its best rule (confidence, then lift, then support), best
/// first, at most `top_n` per customer.
pub fn next_best_products(
    holdings: &BTreeMap<String, BTreeSet<String>>,
    rules: &[Rule],
    min_lift: f64,
    top_n: usize,
) -> Vec<Recommendation> {
    let usable: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.consequent.len() == 1 && r.lift >= min_lift)
        .collect();
    let mut out = Vec::new();
    for (customer, held) in holdings {
        let mut best: BTreeMap<&str, &Rule> = BTreeMap::new();
        for r in &usable {
            let product = r.consequent[0].as_str();
            if held.contains(product) || !r.antecedent.iter().all(|a| held.contains(a)) {
                continue;
            }
            let better = match best.get(product) {
                None => true,
                Some(b) => {
                    (r.confidence, r.lift, r.support) > (b.confidence, b.lift, b.support)
                        || ((r.confidence, r.lift, r.support) == (b.confidence, b.lift, b.support)
                            && r.antecedent < b.antecedent)
                }
            };
            if better {
                best.insert(product, r);
            }
        }
        let mut ranked: Vec<(&str, &Rule)> = best.into_iter().collect();
        ranked.sort_by(|(pa, a), (pb, b)| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(b.lift.total_cmp(&a.lift))
                .then(b.support.total_cmp(&a.support))
                .then(pa.cmp(pb))
        });
        for (i, (product, r)) in ranked.into_iter().take(top_n).enumerate() {
            let because = r.antecedent.join(", ");
            out.push(Recommendation {
                customer_id: customer.clone(),
                rank: i + 1,
                product: product.to_string(),
                confidence: r.confidence,
                lift: r.lift,
                support: r.support,
                because: r.antecedent.clone(),
                reason_en: format!(
                    "{:.0}% of orders with {because} also contain {product} ({:.1}× the usual rate)",
                    100.0 * r.confidence,
                    r.lift
                ),
                reason_zh: format!(
                    "购买 {because} 的订单中有 {:.0}% 同时购买了 {product}（是平均水平的 {:.1} 倍）",
                    100.0 * r.confidence,
                    r.lift
                ),
            });
        }
    }
    out
}

/// Mines itemsets and rules from the baskets and recommends next best products to every
/// customer (holdings = the union of their baskets).
pub fn analyze(
    baskets: &[Basket],
    config: &CrossSellConfig,
) -> Result<CrossSellReport, CrossSellError> {
    let lists: Vec<Vec<String>> = baskets.iter().map(|b| b.items.clone()).collect();
    let itemsets = frequent_itemsets(&lists, config.min_support, config.max_len)?;
    let rules = association_rules(&itemsets, config.min_confidence)?;
    let mut holdings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in baskets {
        holdings
            .entry(b.customer_id.clone())
            .or_default()
            .extend(b.items.iter().cloned());
    }
    let recommendations = next_best_products(
        &holdings,
        &rules,
        config.min_recommendation_lift,
        config.top_n,
    );
    Ok(CrossSellReport {
        baskets: baskets.len(),
        itemsets,
        rules,
        recommendations,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// Brute force: count every subset of every basket.
    fn brute(baskets: &[Vec<String>], min_support: f64) -> BTreeMap<Vec<String>, u64> {
        let n = baskets.len();
        let min_count = ((min_support * n as f64).ceil() as u64).max(1);
        let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        for basket in baskets {
            let s: Vec<String> = basket
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            for mask in 1u32..(1 << s.len()) {
                let sub: Vec<String> = s
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, x)| x.clone())
                    .collect();
                *counts.entry(sub).or_insert(0) += 1;
            }
        }
        counts.retain(|_, c| *c >= min_count);
        counts
    }

    #[test]
    fn han_pei_yin_example() {
        // The running example of Han, Pei & Yin (2000), Table 1, with min count 3 of 5.
        let db = vec![
            b(&["f", "a", "c", "d", "g", "i", "m", "p"]),
            b(&["a", "b", "c", "f", "l", "m", "o"]),
            b(&["b", "f", "h", "j", "o"]),
            b(&["b", "c", "k", "s", "p"]),
            b(&["a", "f", "c", "e", "l", "p", "m", "n"]),
        ];
        let sets = frequent_itemsets(&db, 0.6, None).unwrap();
        let got: BTreeMap<Vec<String>, u64> =
            sets.iter().map(|s| (s.items.clone(), s.count)).collect();
        assert_eq!(got, brute(&db, 0.6));
        assert_eq!(got[&b(&["a", "c", "f", "m"])], 3);
        assert_eq!(got[&b(&["c", "p"])], 3);
        assert!(!got.contains_key(&b(&["a", "p"])));
    }

    #[test]
    fn baskets_from_transactions_group_orders() {
        use crate::transactions::TransactionsBuilder;
        let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut t = TransactionsBuilder::new();
        t.push("c1", d, 1.0, None, Some("o1"), Some("tea")).unwrap();
        t.push("c1", d, 1.0, None, Some("o1"), Some("cup")).unwrap();
        t.push("c2", d, 1.0, None, Some("o2"), Some("tea")).unwrap();
        let mut bs = baskets_from_transactions(&t.build());
        bs.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        assert_eq!(bs.len(), 2);
        let mut items = bs[0].items.clone();
        items.sort();
        assert_eq!(items, b(&["cup", "tea"]));
        assert_eq!(bs[1].items, b(&["tea"]));
    }

    #[test]
    fn rules_and_recommendations() {
        let mut db = Vec::new();
        for _ in 0..6 {
            db.push(Basket {
                customer_id: "x".into(),
                items: b(&["printer", "toner"]),
            });
        }
        db.push(Basket {
            customer_id: "y".into(),
            items: b(&["printer"]),
        });
        db.push(Basket {
            customer_id: "z".into(),
            items: b(&["paper"]),
        });
        db.push(Basket {
            customer_id: "z".into(),
            items: b(&["paper", "toner"]),
        });
        let rep = analyze(
            &db,
            &CrossSellConfig {
                min_support: 0.1,
                min_confidence: 0.5,
                ..Default::default()
            },
        )
        .unwrap();
        let r = rep
            .rules
            .iter()
            .find(|r| r.antecedent == b(&["printer"]) && r.consequent == b(&["toner"]))
            .unwrap();
        assert!((r.confidence - 6.0 / 7.0).abs() < 1e-12);
        assert!((r.lift - (6.0 / 7.0) / (7.0 / 9.0)).abs() < 1e-12);
        assert!((r.leverage - (6.0 / 9.0 - 7.0 / 9.0 * 7.0 / 9.0)).abs() < 1e-12);
        let y: Vec<&Recommendation> = rep
            .recommendations
            .iter()
            .filter(|r| r.customer_id == "y")
            .collect();
        assert_eq!(y.len(), 1);
        assert_eq!(y[0].product, "toner");
        assert_eq!(y[0].because, b(&["printer"]));
        assert!(y[0].reason_zh.contains("toner"));
        // x holds everything: nothing to recommend
        assert!(rep.recommendations.iter().all(|r| r.customer_id != "x"));
    }

    /// Agreement with mlxtend `fpgrowth` + `association_rules`, fixture from
    /// `tests/reference/segments_reference.py`.
    #[test]
    fn agrees_with_mlxtend() {
        let text = include_str!("../tests/reference/segments_baskets.csv");
        let mut by_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        for r in rdr.records() {
            let r = r.unwrap();
            by_order
                .entry(r[0].to_string())
                .or_default()
                .push(r[2].to_string());
        }
        let baskets: Vec<Vec<String>> = by_order.into_values().collect();
        let reference: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/reference/segments_fpgrowth_mlxtend.json"
        ))
        .unwrap();
        let min_support = reference["min_support"].as_f64().unwrap();
        let min_conf = reference["min_confidence"].as_f64().unwrap();
        let sets = frequent_itemsets(&baskets, min_support, None).unwrap();
        let ours: BTreeMap<Vec<String>, f64> =
            sets.iter().map(|s| (s.items.clone(), s.support)).collect();
        let list = |v: &serde_json::Value| -> Vec<String> {
            let mut x: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            x.sort();
            x
        };
        let theirs: BTreeMap<Vec<String>, f64> = reference["itemsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (list(&s["items"]), s["support"].as_f64().unwrap()))
            .collect();
        assert!(theirs.len() > 20, "fixture too small");
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
        for (k, v) in &ours {
            assert!((v - theirs[k]).abs() < 1e-12);
        }
        let rules = association_rules(&sets, min_conf).unwrap();
        let ref_rules = reference["rules"].as_array().unwrap();
        assert_eq!(rules.len(), ref_rules.len());
        let ours: BTreeMap<(Vec<String>, Vec<String>), &Rule> = rules
            .iter()
            .map(|r| ((r.antecedent.clone(), r.consequent.clone()), r))
            .collect();
        for rr in ref_rules {
            let key = (list(&rr["antecedents"]), list(&rr["consequents"]));
            let r = ours.get(&key).unwrap();
            for (ours, field) in [
                (r.support, "support"),
                (r.confidence, "confidence"),
                (r.lift, "lift"),
                (r.leverage, "leverage"),
            ] {
                assert!(
                    (ours - rr[field].as_f64().unwrap()).abs() < 1e-9,
                    "{field} {key:?}"
                );
            }
            match (r.conviction, rr["conviction"].as_f64()) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9 * b.max(1.0)),
                (None, None) => {}
                (a, b) => panic!("conviction {a:?} vs {b:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn matches_brute_force_and_order(
            db in prop::collection::vec(prop::collection::vec(0u8..7, 0..6), 1..40),
            sup in 1u32..10,
        ) {
            let baskets: Vec<Vec<String>> =
                db.iter().map(|b| b.iter().map(|i| format!("p{i}")).collect()).collect();
            let min_support = f64::from(sup) / 20.0;
            let sets = frequent_itemsets(&baskets, min_support, None).unwrap();
            let got: BTreeMap<Vec<String>, u64> =
                sets.iter().map(|s| (s.items.clone(), s.count)).collect();
            prop_assert_eq!(&got, &brute(&baskets, min_support));
            let mut rev = baskets.clone();
            rev.reverse();
            let sets2 = frequent_itemsets(&rev, min_support, None).unwrap();
            prop_assert_eq!(&sets, &sets2);
            let rules = association_rules(&sets, 0.2).unwrap();
            for r in &rules {
                prop_assert!(r.confidence >= 0.2 && r.confidence <= 1.0 + 1e-12);
                prop_assert!(r.support <= r.antecedent_support + 1e-12);
            }
            // max_len bounds the size
            let short = frequent_itemsets(&baskets, min_support, Some(2)).unwrap();
            prop_assert!(short.iter().all(|s| s.items.len() <= 2));
            prop_assert_eq!(short.len(), got.keys().filter(|k| k.len() <= 2).count());
        }
    }
}
