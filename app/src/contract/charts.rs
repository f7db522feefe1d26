//! A chart of a table view: the figures the server computed (`ChartData`) and their picture,
//! drawn here once as SVG text — the table page shows it inline (no JavaScript needed) and the
//! download is the same text.

use serde::{Deserialize, Serialize};

use super::grammar::ChartKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub label: String,
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub kind: ChartKind,
    /// "Sum of revenue by country".
    pub title: String,
    pub x: String,
    /// "Sum of revenue", "Rows".
    pub measure: String,
    pub points: Vec<ChartPoint>,
    /// More values than drawn (a bar chart shows the largest; a line its first points).
    pub more: bool,
    /// Label every n-th point on the axis (a run of days); `None`: as many as fit.
    #[serde(default)]
    pub label_every: Option<usize>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 404.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
/// Room for the title above the plot: a downloaded picture says what it shows.
const TOP: f64 = 40.0;
const BOTTOM: f64 = 124.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A number as the axis and the data table show it: whole numbers with thousands separators,
/// others with two decimals.
pub fn figure(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let rounded = if (value - value.round()).abs() < 1e-9 { value.round() } else { (value * 100.0).round() / 100.0 };
    let text = if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.2}") };
    let (sign, rest) = text.strip_prefix('-').map_or(("", text.as_str()), |r| ("-", r));
    let (whole, fraction) = rest.split_once('.').map_or((rest, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// The id of a chart's title, from the title: several charts on one page keep theirs apart.
fn title_id(title: &str) -> String {
    let slug: String = title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("chart-{}", slug.trim_matches('-'))
}

/// A round step for about five ticks up to `max`.
fn step(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    if step <= 0.0 {
        1.0
    } else {
        step
    }
}

/// The chart as a standalone SVG document (`role="img"`, titled; every bar and point carries
/// its label and value in `data-label` / `data-value` and a `<title>` tooltip).
pub fn svg(data: &ChartData) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let low = data.points.iter().map(|p| p.value).fold(0.0_f64, f64::min);
    let high = data.points.iter().map(|p| p.value).fold(0.0_f64, f64::max);
    let mut step = step((high - low).max(f64::EPSILON));
    // Counts tick in whole numbers.
    if data.points.iter().all(|p| p.value.fract() == 0.0) {
        step = step.ceil();
    }
    let bottom = (low / step).floor() * step;
    let top = ((high / step).ceil() * step).max(bottom + step);
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v - bottom) / (top - bottom));
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" class=\"h-auto max-w-full\" role=\"img\" aria-labelledby=\"{id}\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\"><title id=\"{id}\">{}</title>\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>\
         <text x=\"{LEFT}\" y=\"24\" font-size=\"14\" font-weight=\"600\" fill=\"#0f172a\">{}</text>",
        escape(&data.title),
        escape(&data.title),
        id = title_id(&data.title)
    );
    // Grid lines and the value axis.
    let mut tick = bottom;
    while tick <= top + step / 2.0 {
        let y = y_of(tick);
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e2e8f0\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#475569\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&figure(tick))
        ));
        tick += step;
    }
    let n = data.points.len().max(1) as f64;
    let slot = plot_w / n;
    // Label every point on a short axis; on a long one, about twenty of them.
    let every = data.label_every.unwrap_or(data.points.len() / 20).max(1);
    let label = |i: usize, x: f64, text: &str| {
        if !i.is_multiple_of(every) {
            return String::new();
        }
        let short: String = if text.chars().count() > 16 { text.chars().take(15).chain(['…']).collect() } else { text.to_string() };
        format!(
            "<text transform=\"translate({x:.1},{:.1}) rotate(-40)\" text-anchor=\"end\" fill=\"#334155\">{}</text>",
            HEIGHT - BOTTOM + 14.0,
            escape(&short)
        )
    };
    match data.kind {
        ChartKind::Bar => {
            for (i, p) in data.points.iter().enumerate() {
                let x = LEFT + slot * i as f64 + slot * 0.15;
                let (y0, y1) = (y_of(p.value.max(0.0)), y_of(p.value.min(0.0)));
                out.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4f46e5\" data-label=\"{}\" data-value=\"{}\"><title>{}: {}</title></rect>",
                    slot * 0.7,
                    (y1 - y0).max(0.5),
                    escape(&p.label),
                    p.value,
                    escape(&p.label),
                    escape(&figure(p.value))
                ));
                out.push_str(&label(i, x + slot * 0.35, &p.label));
            }
        }
        ChartKind::Line => {
            let at = |i: usize| LEFT + slot * i as f64 + slot / 2.0;
            let path: Vec<String> = data.points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", at(i), y_of(p.value))).collect();
            out.push_str(&format!("<polyline points=\"{}\" fill=\"none\" stroke=\"#4f46e5\" stroke-width=\"2\"/>", path.join(" ")));
            for (i, p) in data.points.iter().enumerate() {
                out.push_str(&format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#4f46e5\" data-label=\"{}\" data-value=\"{}\"><title>{}: {}</title></circle>",
                    at(i),
                    y_of(p.value),
                    escape(&p.label),
                    p.value,
                    escape(&p.label),
                    escape(&figure(p.value))
                ));
                out.push_str(&label(i, at(i), &p.label));
            }
        }
    }
    out.push_str(&format!(
        "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#94a3b8\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#0f172a\">{}</text></svg>",
        WIDTH - RIGHT,
        y_of(0.0_f64.clamp(bottom, top)),
        y_of(0.0_f64.clamp(bottom, top)),
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0,
        escape(&data.x)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_like_the_grid() {
        assert_eq!(figure(1234567.0), "1,234,567");
        assert_eq!(figure(-1234.5), "-1,234.50");
        assert_eq!(figure(0.0), "0");
        assert_eq!(step(97.0), 20.0);
        assert_eq!(step(1_000_000.0), 200_000.0);
        assert_eq!(step(2.0), 0.5, "a fraction, which whole counts round up to 1");
    }

    #[test]
    fn labels_are_escaped_and_every_bar_carries_its_figures() {
        let data = ChartData {
            kind: ChartKind::Bar,
            title: "Rows by <b>".into(),
            x: "country".into(),
            measure: "Rows".into(),
            points: vec![ChartPoint { label: "DE & \"AT\"".into(), value: 3.0 }, ChartPoint { label: "FR".into(), value: 1.0 }],
            more: false,
            label_every: None,
        };
        let svg = svg(&data);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<b>") && svg.contains("Rows by &lt;b&gt;"));
        assert!(svg.contains("aria-labelledby=\"chart-rows-by--b\"") && svg.contains("<title id=\"chart-rows-by--b\">"));
        assert!(svg.contains("data-label=\"DE &amp; &quot;AT&quot;\" data-value=\"3\""));
        assert_eq!(svg.matches("<rect x=").count(), 3, "the background and two bars");
    }
}
