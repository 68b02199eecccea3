//! Default look, as a stylesheet the page serves with its own ([`crate::STYLESHEET`]): not
//! inside each chart, where a page's Content-Security-Policy (`style-src 'self'`) would block
//! it and every chart would repeat it. The application themes charts by setting custom
//! properties
//! (`--gx-s0`…`--gx-s7`, `--gx-text`, `--gx-muted`, `--gx-grid`, `--gx-baseline`, `--gx-bg`,
//! `--gx-on-mark`) on `.gx-chart` or any ancestor.
//!
//! Every rule sits inside `:where(…)`, which has zero specificity, so any rule in the
//! application's stylesheet wins over these defaults. Inline SVG styles apply to the whole
//! HTML document, which is harmless here: every chart carries the same rules and they only
//! match chart classes.
//!
//! The series palette follows Okabe and Ito's colour-blind-safe set (blue, orange, bluish
//! green, reddish purple, sky blue, vermillion, yellow, grey), ordered so that the first
//! colours, the ones most charts use, differ most under every common colour-vision
//! deficiency; the yellow is darkened so a bar still stands out against a white page.

pub const CSS: &str = concat!(
    ":where(.gx-chart){display:block;width:100%;height:auto;overflow:visible;font-family:inherit;font-size:12px}",
    ":where(.gx-chart text){fill:var(--gx-text,#1f2937);font-size:12px}",
    ":where(.gx-chart .gx-axis){fill:var(--gx-muted,#6b7280)}",
    ":where(.gx-chart .gx-legend){fill:var(--gx-text,#374151)}",
    ":where(.gx-chart .gx-label){fill:var(--gx-text,#374151)}",
    ":where(.gx-chart .gx-value){font-weight:600}",
    ":where(.gx-chart .gx-value-in){fill:var(--gx-on-mark,#fff);font-weight:600}",
    ":where(.gx-chart .gx-muted){fill:var(--gx-muted,#6b7280)}",
    ":where(.gx-chart .gx-empty){fill:var(--gx-muted,#6b7280)}",
    ":where(.gx-chart .gx-total){font-size:20px;font-weight:600}",
    ":where(.gx-chart .gx-grid){stroke:var(--gx-grid,#e5e7eb);stroke-width:1}",
    ":where(.gx-chart .gx-zero){stroke:var(--gx-baseline,#9ca3af);stroke-width:1}",
    ":where(.gx-chart .gx-rule){stroke:var(--gx-grid,#e5e7eb);stroke-width:1}",
    ":where(.gx-chart .gx-s0){--gx-c:var(--gx-s0,#0a6fc2);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s1){--gx-c:var(--gx-s1,#e69f00);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s2){--gx-c:var(--gx-s2,#009e73);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s3){--gx-c:var(--gx-s3,#cc79a7);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s4){--gx-c:var(--gx-s4,#56b4e9);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s5){--gx-c:var(--gx-s5,#d55e00);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s6){--gx-c:var(--gx-s6,#d9b800);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-s7){--gx-c:var(--gx-s7,#6b7280);fill:var(--gx-c)}",
    ":where(.gx-chart .gx-seg){stroke:var(--gx-bg,#fff);stroke-width:1}",
    ":where(.gx-chart .gx-slice){stroke:var(--gx-bg,#fff);stroke-width:2;stroke-linejoin:round}",
    ":where(.gx-chart .gx-line){fill:none;stroke:var(--gx-c);stroke-width:2.5;stroke-linejoin:round;stroke-linecap:round}",
    ":where(.gx-chart .gx-area){fill-opacity:.12}",
    ":where(.gx-chart .gx-dot){stroke:var(--gx-bg,#fff);stroke-width:1.5}",
    ":where(.gx-chart .gx-link){fill-opacity:.14}",
    ":where(.gx-chart rect,.gx-chart path,.gx-chart circle){transition:opacity .15s}",
    ":where(.gx-chart rect:hover,.gx-chart path:hover,.gx-chart circle:hover){opacity:.8}",
);
