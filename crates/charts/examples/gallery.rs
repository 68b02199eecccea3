//! Prints an HTML page with one chart of each kind, drawn from realistic CRM figures, for a
//! visual check in a browser at phone and desktop widths:
//!
//! ```sh
//! cargo run -p guanxi-charts --example gallery > /tmp/gallery.html
//! ```

use guanxi_charts::{Chart, Kind, Series, render, top};

/// Yuan as a Chinese reader writes large sums: "¥120万", "¥1.3亿".
fn yuan(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let short = |x: f64| {
        let s = format!("{x:.1}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if a >= 1e8 {
        format!("{sign}¥{}亿", short(a / 1e8))
    } else if a >= 1e4 {
        format!("{sign}¥{}万", short(a / 1e4))
    } else {
        format!("{sign}¥{}", short(a))
    }
}

/// Dollars as an English dashboard writes them: "$1.2M", "$850K".
fn dollars(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let short = |x: f64| {
        let s = format!("{x:.1}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if a >= 1e6 {
        format!("{sign}${}M", short(a / 1e6))
    } else if a >= 1e3 {
        format!("{sign}${}K", short(a / 1e3))
    } else {
        format!("{sign}${}", short(a))
    }
}

fn count(v: f64) -> String {
    format!("{}", v.round() as i64)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn months() -> Vec<String> {
    (1..=12).map(|m| format!("2026-{m:02}")).collect()
}

fn main() {
    let yuan_fmt: &dyn Fn(f64) -> String = &yuan;
    let dollar_fmt: &dyn Fn(f64) -> String = &dollars;
    let count_fmt: &dyn Fn(f64) -> String = &count;
    let mut cards: Vec<(String, String)> = Vec::new();
    let mut add =
        |heading: &str, chart: Chart<'_>| cards.push((heading.to_string(), render(&chart)));

    let stages = strings(&["初步接洽", "需求确认", "方案报价", "谈判审核", "赢单"]);
    add(
        "销售漏斗（金额）",
        Chart {
            kind: Kind::Funnel,
            title: "销售漏斗（金额）".into(),
            categories: stages.clone(),
            series: vec![Series::new(
                "金额",
                vec![
                    12_800_000.0,
                    8_600_000.0,
                    5_200_000.0,
                    3_100_000.0,
                    1_900_000.0,
                ],
            )],
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    let owners = strings(&[
        "张伟",
        "王芳",
        "李娜",
        "欧阳明",
        "刘洋",
        "陈静",
        "杨帆",
        "赵敏",
        "黄晓明",
        "周杰",
        "吴磊",
        "徐丽",
        "孙悦",
        "马超",
        "朱琳",
    ]);
    let owner_amounts = [
        3_200_000.0,
        2_750_000.0,
        2_400_000.0,
        1_980_000.0,
        1_200_000.0,
        960_000.0,
        880_000.0,
        540_000.0,
        420_000.0,
        300_000.0,
        260_000.0,
        120_000.0,
        80_000.0,
        60_000.0,
        15_000.0,
    ];
    let (names, amounts) = top(&owners, &owner_amounts, 8, "其他");
    add(
        "负责人赢单金额（前 8 名）",
        Chart {
            kind: Kind::Bar,
            title: "负责人赢单金额".into(),
            categories: names,
            series: vec![Series::new("赢单金额", amounts)],
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "每月新增商机",
        Chart {
            kind: Kind::Column,
            title: "每月新增商机".into(),
            categories: months(),
            series: vec![Series::new(
                "商机数",
                vec![
                    34.0, 28.0, 41.0, 52.0, 47.0, 63.0, 58.0, 49.0, 71.0, 66.0, 80.0, 92.0,
                ],
            )],
            format: count_fmt,
            empty: "暂无数据".into(),
        },
    );

    let stack_owners = strings(&["张伟", "王芳", "李娜", "欧阳明", "刘洋", "陈静"]);
    let by_stage = [
        [
            1_200_000.0,
            900_000.0,
            600_000.0,
            400_000.0,
            300_000.0,
            250_000.0,
        ],
        [
            800_000.0, 700_000.0, 650_000.0, 300_000.0, 200_000.0, 150_000.0,
        ],
        [
            600_000.0, 500_000.0, 300_000.0, 450_000.0, 100_000.0, 120_000.0,
        ],
        [400_000.0, 200_000.0, 350_000.0, 150_000.0, 80_000.0, 0.0],
        [
            300_000.0, 450_000.0, 200_000.0, 100_000.0, 60_000.0, 40_000.0,
        ],
    ];
    add(
        "各负责人商机阶段分布",
        Chart {
            kind: Kind::StackedBar,
            title: "各负责人商机阶段分布".into(),
            categories: stack_owners,
            series: stages
                .iter()
                .zip(by_stage)
                .map(|(s, v)| Series::new(s.clone(), v.to_vec()))
                .collect(),
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "赢单金额与目标",
        Chart {
            kind: Kind::Line,
            title: "赢单金额与目标".into(),
            categories: months(),
            series: vec![
                Series::new(
                    "赢单金额",
                    vec![
                        820_000.0,
                        640_000.0,
                        1_050_000.0,
                        1_180_000.0,
                        990_000.0,
                        1_420_000.0,
                        1_310_000.0,
                        1_150_000.0,
                        1_560_000.0,
                        1_490_000.0,
                        1_720_000.0,
                        2_050_000.0,
                    ],
                ),
                Series::new("目标", vec![1_000_000.0; 12]),
            ],
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "客户来源",
        Chart {
            kind: Kind::Pie,
            title: "客户来源".into(),
            categories: strings(&[
                "官网咨询",
                "展会",
                "老客户推荐",
                "电话营销",
                "合作伙伴渠道",
                "其他",
            ]),
            series: vec![Series::new(
                "客户数",
                vec![142.0, 96.0, 88.0, 51.0, 37.0, 12.0],
            )],
            format: count_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "赢单金额（按产品线）",
        Chart {
            kind: Kind::Donut,
            title: "赢单金额（按产品线）".into(),
            categories: strings(&["企业版订阅", "实施服务", "定制开发", "培训"]),
            series: vec![Series::new(
                "金额",
                vec![6_200_000.0, 2_400_000.0, 1_350_000.0, 380_000.0],
            )],
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "商机金额净变化（含负值）",
        Chart {
            kind: Kind::Column,
            title: "商机金额净变化".into(),
            categories: strings(&["1月", "2月", "3月", "4月", "5月", "6月"]),
            series: vec![Series::new(
                "净变化",
                vec![
                    420_000.0, -180_000.0, 260_000.0, -90_000.0, 510_000.0, 130_000.0,
                ],
            )],
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "大客户成交额（长名称）",
        Chart {
            kind: Kind::Bar,
            title: "大客户成交额".into(),
            categories: strings(&[
                "上海欧阳明远信息科技有限公司",
                "北京华联",
                "深圳市腾云智能制造股份有限公司",
                "杭州阿里巴巴网络技术有限公司",
                "Acme Trading (Hong Kong) Limited",
            ]),
            series: vec![Series::new(
                "成交额",
                vec![
                    5_600_000.0,
                    3_900_000.0,
                    2_100_000.0,
                    1_750_000.0,
                    640_000.0,
                ],
            )],
            format: yuan_fmt,
            empty: "暂无数据".into(),
        },
    );

    add(
        "Pipeline by owner",
        Chart {
            kind: Kind::Bar,
            title: "Pipeline by owner".into(),
            categories: strings(&[
                "Alexandra Whitfield",
                "Mohammed Al-Rashid",
                "Sophie Martin",
                "James O'Connor",
                "Wei Zhang",
                "Priya Raghunathan-Iyer",
            ]),
            series: vec![Series::new(
                "Amount",
                vec![
                    1_240_000.0,
                    985_000.0,
                    760_000.0,
                    540_000.0,
                    410_000.0,
                    95_000.0,
                ],
            )],
            format: dollar_fmt,
            empty: "No data yet".into(),
        },
    );

    add(
        "Sales funnel",
        Chart {
            kind: Kind::Funnel,
            title: "Sales funnel".into(),
            categories: strings(&[
                "Lead",
                "Qualified",
                "Proposal sent",
                "Negotiation & legal review",
                "Closed won",
            ]),
            series: vec![Series::new("Deals", vec![480.0, 260.0, 140.0, 72.0, 31.0])],
            format: count_fmt,
            empty: "No data yet".into(),
        },
    );

    add(
        "Deals won & lost by quarter",
        Chart {
            kind: Kind::StackedBar,
            title: "Deals won & lost by quarter".into(),
            categories: strings(&["Q1 2026", "Q2 2026", "Q3 2026", "Q4 2026"]),
            series: vec![
                Series::new("Won", vec![18.0, 24.0, 31.0, 27.0]),
                Series::new("Lost", vec![-9.0, -12.0, -7.0, -14.0]),
            ],
            format: count_fmt,
            empty: "No data yet".into(),
        },
    );

    add(
        "本月回款（空）",
        Chart {
            kind: Kind::Donut,
            title: "本月回款".into(),
            categories: vec![],
            series: vec![],
            format: yuan_fmt,
            empty: "本月暂无回款记录".into(),
        },
    );

    println!("<!doctype html>");
    println!("<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    println!("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    println!("<title>Guanxi charts</title><style>");
    println!(
        "body{{margin:0;padding:16px;background:#f3f4f6;color:#111827;\
         font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif}}\
         h1{{font-size:20px;margin:0 0 16px}}\
         .grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:16px;max-width:1320px}}\
         .card{{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 16px 12px;min-width:0}}\
         .card h2{{font-size:15px;font-weight:600;margin:0 0 12px}}\
         .chart{{max-width:560px}}"
    );
    println!("{}", guanxi_charts::STYLESHEET);
    println!("</style></head><body><h1>Guanxi 图表 · Charts</h1><div class=\"grid\">");
    for (heading, svg) in &cards {
        println!(
            "<section class=\"card\"><h2>{}</h2><div class=\"chart\">{svg}</div></section>",
            escape(heading)
        );
    }
    println!("</div></body></html>");
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
