//! Whole-chart tests: what a page relies on (well-formed, escaped, deterministic markup) and
//! what a reader relies on (tooltips, shares, the empty message).

use crate::svg::{N, escape};
use crate::{Chart, Kind, Series, render};

const KINDS: [Kind; 7] = [
    Kind::Bar,
    Kind::Column,
    Kind::StackedBar,
    Kind::Line,
    Kind::Pie,
    Kind::Donut,
    Kind::Funnel,
];

fn plain(v: f64) -> String {
    format!("{v}")
}

fn wan(v: f64) -> String {
    format!("¥{}万", v / 10_000.0)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn chart<'a>(
    kind: Kind,
    categories: &[&str],
    series: Vec<Series>,
    format: &'a dyn Fn(f64) -> String,
) -> Chart<'a> {
    Chart {
        kind,
        title: "测试".into(),
        categories: strings(categories),
        series,
        format,
        empty: "暂无数据".into(),
    }
}

/// Checks the markup is a single balanced `<svg>` element, that no tag holds a raw `<`, that
/// attribute quotes pair up and that every `&` starts one of the entities we write.
fn well_formed(svg: &str) -> Result<(), String> {
    fn entities(s: &str) -> Result<(), String> {
        for (i, _) in s.match_indices('&') {
            let rest = &s[i..];
            if !["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|e| rest.starts_with(e))
            {
                return Err(format!("bare & at {:?}", &rest[..rest.len().min(12)]));
            }
        }
        Ok(())
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        let between = &rest[..start];
        if stack.is_empty() && !between.trim().is_empty() {
            return Err(format!("text outside the root: {between:?}"));
        }
        entities(between)?;
        let after = &rest[start + 1..];
        let end = after.find('>').ok_or("unterminated tag")?;
        let tag = &after[..end];
        if tag.contains('<') {
            return Err(format!("raw < inside tag {tag:?}"));
        }
        if !tag.matches('"').count().is_multiple_of(2) {
            return Err(format!("unbalanced quotes in {tag:?}"));
        }
        entities(tag)?;
        let name = |t: &'_ str| {
            t.split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_string()
        };
        if let Some(closing) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("stray </{closing}>"))?;
            if name(open) != closing {
                return Err(format!("<{}> closed by </{closing}>", name(open)));
            }
        } else if !tag.ends_with('/') {
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(tag);
        } else if stack.is_empty() {
            return Err("self-closing element outside the root".into());
        }
        rest = &after[end + 1..];
    }
    if !stack.is_empty() {
        return Err(format!(
            "unclosed: {:?}",
            stack.iter().map(|t| name_of(t)).collect::<Vec<_>>()
        ));
    }
    if !rest.trim().is_empty() || roots != 1 || !svg.starts_with("<svg ") {
        return Err("not a single <svg> root".into());
    }
    Ok(())
}

fn name_of(tag: &str) -> &str {
    tag.split_whitespace().next().unwrap_or("")
}

/// Tooltip texts of all marks, in document order.
fn titles(svg: &str) -> Vec<String> {
    svg.split("<title>")
        .skip(2)
        .filter_map(|s| s.split("</title>").next())
        .map(str::to_string)
        .collect()
}

/// `(x, y, width, height)` of every mark of the first series colour.
fn bars(svg: &str) -> Vec<[f64; 4]> {
    svg.split("<rect ")
        .skip(1)
        .filter(|r| r.contains("class=\"gx-s0\""))
        .map(|r| {
            let attr = |name: &str| -> f64 {
                let key = format!("{name}=\"");
                let start = r.find(&key).map(|i| i + key.len()).unwrap_or(0);
                r[start..]
                    .split('"')
                    .next()
                    .unwrap_or("")
                    .parse()
                    .unwrap_or(f64::NAN)
            };
            [attr("x"), attr("y"), attr("width"), attr("height")]
        })
        .collect()
}

fn view_height(svg: &str) -> f64 {
    let vb = svg
        .split("viewBox=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("");
    vb.split(' ')
        .nth(3)
        .and_then(|h| h.parse().ok())
        .unwrap_or(f64::NAN)
}

fn sample(kind: Kind, format: &dyn Fn(f64) -> String) -> String {
    render(&chart(
        kind,
        &["初步接洽", "需求确认", "方案报价", "谈判审核", "赢单"],
        vec![
            Series::new(
                "张伟",
                vec![1_280_000.0, 860_000.0, 520_000.0, 310_000.0, 190_000.0],
            ),
            Series::new("王芳", vec![400_000.0, 300_000.0, 0.0, 120_000.0, 90_000.0]),
        ],
        format,
    ))
}

#[test]
fn every_kind_is_well_formed_and_scales_with_its_container() {
    for kind in KINDS {
        let svg = sample(kind, &wan);
        well_formed(&svg)
            .map_err(|e| format!("{kind:?}: {e}"))
            .unwrap();
        let root = &svg[..svg.find('>').unwrap()];
        assert!(root.contains("viewBox=\"0 0 360 "), "{kind:?}: {root}");
        assert!(root.contains("width=\"100%\""), "{kind:?}");
        assert!(
            !root.contains(" height="),
            "{kind:?}: fixed height breaks scaling"
        );
        assert!(
            root.contains("role=\"img\" aria-label=\"测试\""),
            "{kind:?}"
        );
        assert!(svg.contains("<title>测试</title>"), "{kind:?}");
        assert!(
            !svg.contains("<style"),
            "{kind:?}: styles come from the page's stylesheet, which a CSP allows"
        );
        assert!(
            crate::STYLESHEET.contains("var(--gx-s0,#"),
            "default palette missing"
        );
        assert!(
            !svg.contains("fill=\"#"),
            "{kind:?}: colours belong in the stylesheet"
        );
    }
}

#[test]
fn the_checker_rejects_broken_markup() {
    assert!(well_formed("<svg a=\"1\"><g><text>x</text></g></svg>").is_ok());
    assert!(well_formed("<svg><g></svg>").is_err());
    assert!(well_formed("<svg><text>a & b</text></svg>").is_err());
    assert!(well_formed("<svg><text a=\"x>y\">z</text></svg>").is_err());
    assert!(well_formed("<svg></svg><svg></svg>").is_err());
}

#[test]
fn all_text_is_escaped() {
    let nasty = "<script>alert(\"x\")</script> & 'Tom'";
    let shout = |_: f64| "<b>&</b>".to_string();
    for kind in KINDS {
        let mut c = chart(
            kind,
            &[nasty, "B&Q"],
            vec![
                Series::new(nasty, vec![3.0, 2.0]),
                Series::new("x", vec![1.0, 1.0]),
            ],
            &shout,
        );
        c.title = nasty.into();
        let svg = render(&c);
        well_formed(&svg)
            .map_err(|e| format!("{kind:?}: {e}"))
            .unwrap();
        assert!(!svg.contains("<script"), "{kind:?}");
        assert!(!svg.contains("<b>"), "{kind:?}");
        assert!(
            svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Tom&#39;"),
            "{kind:?}"
        );
    }
    assert_eq!(escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
    assert_eq!(escape("tab\tok\u{0}\u{1b}gone"), "tab\tokgone");
}

#[test]
fn numbers_have_at_most_two_decimals() {
    assert_eq!(N(2.0).to_string(), "2");
    assert_eq!(N(1.23456).to_string(), "1.23");
    assert_eq!(N(2.5).to_string(), "2.5");
    assert_eq!(N(-0.001).to_string(), "0");
    assert_eq!(N(-12.345).to_string(), "-12.35");
    assert_eq!(N(f64::NAN).to_string(), "0");

    for kind in KINDS {
        let svg = sample(kind, &wan);
        // Every number inside a tag (attributes, path data); text content is the caller's.
        for tag in svg.split('<').filter_map(|t| t.split('>').next()) {
            if tag.starts_with("style") || tag.starts_with("title") {
                continue;
            }
            for token in tag.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                if let Some((_, frac)) = token.split_once('.') {
                    assert!(frac.len() <= 2, "{kind:?}: {token} in <{tag}>");
                }
            }
        }
    }
}

#[test]
fn output_is_deterministic() {
    for kind in KINDS {
        assert_eq!(sample(kind, &wan), sample(kind, &wan), "{kind:?}");
    }
}

#[test]
fn nothing_to_draw_shows_the_callers_message() {
    for kind in KINDS {
        let none = render(&chart(kind, &[], vec![Series::new("x", vec![1.0])], &plain));
        let zeros = render(&chart(
            kind,
            &["a", "b"],
            vec![Series::new("x", vec![0.0, f64::NAN])],
            &plain,
        ));
        let no_series = render(&chart(kind, &["a", "b"], vec![], &plain));
        for svg in [none, zeros, no_series] {
            well_formed(&svg).unwrap();
            assert!(
                svg.contains("class=\"gx-empty\">暂无数据</text>"),
                "{kind:?}: {svg}"
            );
            assert!(!svg.contains("<rect") && !svg.contains("<path"), "{kind:?}");
        }
    }
    // Shares of negative figures mean nothing, so a pie of losses is empty too.
    let losses = render(&chart(
        Kind::Pie,
        &["a"],
        vec![Series::new("x", vec![-5.0])],
        &plain,
    ));
    assert!(losses.contains("gx-empty"));
    let mut c = chart(Kind::Bar, &[], vec![], &plain);
    c.empty = "No <data> yet".into();
    assert!(render(&c).contains("No &lt;data&gt; yet"));
}

#[test]
fn mismatched_lengths_count_missing_values_as_zero_and_ignore_extras() {
    for kind in KINDS {
        let short = render(&chart(
            kind,
            &["a", "b", "c"],
            vec![Series::new("x", vec![5.0])],
            &plain,
        ));
        well_formed(&short).unwrap();
        let long = render(&chart(
            kind,
            &["a"],
            vec![Series::new("x", vec![5.0, 7.0, 9.0])],
            &plain,
        ));
        well_formed(&long).unwrap();
        assert!(
            !long.contains(": 9") && !long.contains(": 7"),
            "{kind:?}: extra values drawn"
        );
    }
    let svg = render(&chart(
        Kind::Bar,
        &["a", "b", "c"],
        vec![Series::new("x", vec![5.0])],
        &plain,
    ));
    assert_eq!(titles(&svg), vec!["a: 5", "b: 0", "c: 0"]);
    let svg = render(&chart(
        Kind::Line,
        &["a", "b"],
        vec![
            Series::new("x", vec![1.0, 2.0]),
            Series::new("y", vec![3.0]),
        ],
        &plain,
    ));
    assert!(titles(&svg).contains(&"b · y: 0".to_string()));
}

#[test]
fn odd_values_never_panic_or_leak_into_the_markup() {
    let odd = vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        1e300,
        -1e300,
        f64::MIN_POSITIVE,
        3.0,
    ];
    let cats: Vec<String> = (0..odd.len()).map(|i| format!("c{i}")).collect();
    let many: Vec<String> = (0..500).map(|i| format!("客户{i}")).collect();
    for kind in KINDS {
        for categories in [cats.clone(), many.clone()] {
            let c = Chart {
                kind,
                title: String::new(),
                categories,
                series: vec![Series::new("", odd.clone()), Series::new("", vec![])],
                format: &plain,
                empty: String::new(),
            };
            let svg = render(&c);
            well_formed(&svg)
                .map_err(|e| format!("{kind:?}: {e}"))
                .unwrap();
            let tags: String = svg.split('<').filter_map(|t| t.split('>').next()).collect();
            assert!(!tags.contains("NaN") && !tags.contains("inf"), "{kind:?}");
        }
    }
}

#[test]
fn negative_bars_grow_left_and_down_from_the_zero_baseline() {
    let svg = render(&chart(
        Kind::Bar,
        &["亏", "盈"],
        vec![Series::new("x", vec![-50.0, 100.0])],
        &plain,
    ));
    let [neg, pos] = bars(&svg)[..] else {
        panic!("two bars expected")
    };
    assert!(
        (neg[0] + neg[2] - pos[0]).abs() < 0.02,
        "bars meet at zero: {neg:?} {pos:?}"
    );
    assert!(neg[2] > 0.0 && pos[2] > neg[2]);
    assert!(
        svg.contains(">-50</text>"),
        "the axis spans the negative side"
    );

    let svg = render(&chart(
        Kind::Column,
        &["1月", "2月"],
        vec![Series::new("x", vec![-50.0, 100.0])],
        &plain,
    ));
    let [neg, pos] = bars(&svg)[..] else {
        panic!("two columns expected")
    };
    assert!(
        (pos[1] + pos[3] - neg[1]).abs() < 0.02,
        "columns meet at zero: {neg:?} {pos:?}"
    );

    let svg = render(&chart(
        Kind::StackedBar,
        &["Q1"],
        vec![
            Series::new("Won", vec![18.0]),
            Series::new("Lost", vec![-9.0]),
        ],
        &plain,
    ));
    assert!(
        svg.contains(">18</text>") && svg.contains(">-9</text>"),
        "one total at each end"
    );
}

#[test]
fn funnel_and_pie_tooltips_carry_shares() {
    let svg = render(&chart(
        Kind::Funnel,
        &["初步接洽", "方案报价", "赢单"],
        vec![Series::new("金额", vec![1_200_000.0, 600_000.0, 300_000.0])],
        &wan,
    ));
    assert_eq!(
        titles(&svg),
        vec![
            "初步接洽: ¥120万 (100%)",
            "方案报价: ¥60万 (50%)",
            "赢单: ¥30万 (25%)"
        ]
    );
    assert!(
        svg.contains("¥30万 · 25%"),
        "the share is printed, not only hovered"
    );

    for kind in [Kind::Pie, Kind::Donut] {
        let svg = render(&chart(
            kind,
            &["a", "b", "loss", "c"],
            vec![Series::new("n", vec![1.0, 1.0, -5.0, 2.0])],
            &plain,
        ));
        let t = titles(&svg);
        assert!(t.contains(&"a: 1 (25%)".to_string()), "{kind:?}: {t:?}");
        assert!(t.contains(&"c: 2 (50%)".to_string()), "{kind:?}");
        assert!(
            !t.iter().any(|s| s.starts_with("loss")),
            "{kind:?}: non-positive slices are left out"
        );
        assert!(
            svg.contains("class=\"gx-legend\">c</text>"),
            "{kind:?}: slices have a legend"
        );
    }
    let donut = render(&chart(
        Kind::Donut,
        &["a", "b"],
        vec![Series::new("n", vec![1.0, 3.0])],
        &plain,
    ));
    assert!(donut.contains("class=\"gx-total\">4</text>"));
}

#[test]
fn tooltips_name_the_series_only_for_multiple_series() {
    let one = render(&chart(
        Kind::Bar,
        &["张伟"],
        vec![Series::new("金额", vec![1_200_000.0])],
        &wan,
    ));
    assert_eq!(titles(&one), vec!["张伟: ¥120万"]);
    let two = render(&chart(
        Kind::Line,
        &["2026-01"],
        vec![
            Series::new("赢单", vec![12.0]),
            Series::new("目标", vec![10.0]),
        ],
        &plain,
    ));
    let t = titles(&two);
    assert!(t.contains(&"2026-01 · 赢单: 12".to_string()), "{t:?}");
    assert!(
        two.contains("class=\"gx-legend\">目标</text>"),
        "multi-series charts have a legend"
    );
}

#[test]
fn long_labels_are_cut_and_kept_whole_in_a_tooltip() {
    let name = "深圳市腾云智能制造股份有限公司华南区域销售中心";
    let svg = render(&chart(
        Kind::Bar,
        &[name, "李娜"],
        vec![Series::new("x", vec![1.0, 2.0])],
        &plain,
    ));
    assert!(
        svg.contains(&format!("…<title>{name}</title></text>")),
        "{svg}"
    );
    assert!(
        svg.contains(">李娜</text>"),
        "short labels stay whole and untitled"
    );
}

#[test]
fn horizontal_bars_grow_with_the_number_of_categories() {
    let few = render(&chart(
        Kind::Bar,
        &["a", "b", "c"],
        vec![Series::new("x", vec![1.0; 3])],
        &plain,
    ));
    let names: Vec<String> = (0..12).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let many = render(&chart(
        Kind::Bar,
        &refs,
        vec![Series::new("x", vec![1.0; 12])],
        &plain,
    ));
    assert!(view_height(&many) - view_height(&few) >= 9.0 * 20.0);
}

#[test]
fn axis_ticks_are_round_and_labelled_through_the_formatter() {
    let svg = render(&chart(
        Kind::Column,
        &["a", "b"],
        vec![Series::new("x", vec![870_000.0, 420_000.0])],
        &wan,
    ));
    for tick in ["¥0万", "¥20万", "¥40万", "¥60万", "¥80万", "¥100万"] {
        assert!(
            svg.contains(&format!("class=\"gx-axis\">{tick}</text>")),
            "{tick} missing"
        );
    }
}

#[test]
fn funnel_without_a_first_stage_shows_values_but_no_shares() {
    let svg = render(&chart(
        Kind::Funnel,
        &["线索", "报价", "赢单"],
        vec![Series::new("n", vec![0.0, 40.0, -3.0])],
        &plain,
    ));
    well_formed(&svg).unwrap();
    assert_eq!(titles(&svg), vec!["线索: 0", "报价: 40", "赢单: 0"]);
    let body = &svg[svg.find("</title>").unwrap()..];
    assert!(!body.contains('%'), "no shares of nothing");
    let marks = bars(&svg);
    assert_eq!(
        marks.iter().filter(|m| m[2] > 0.0).count(),
        1,
        "only the positive stage has a bar"
    );
}
