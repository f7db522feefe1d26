//! Charts as PNG, for slides and e-mails: the SVG the page shows, rasterised on the server at
//! twice its size (sharp on high-density screens). Its text needs a font: the fonts installed on
//! the server are loaded once (the Debian package `fonts-dejavu-core` is enough).

use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb::Database;
use resvg::{tiny_skia, usvg};

use crate::error::{PortalError, Result};

/// Pixels per SVG unit.
const SCALE: f32 = 2.0;
/// Families the charts' `sans-serif` prefers, in order; else the first one installed.
const SANS: [&str; 4] = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial"];

static FONTS: OnceLock<Arc<Database>> = OnceLock::new();

fn fonts() -> Arc<Database> {
    FONTS
        .get_or_init(|| {
            let mut db = Database::new();
            db.load_system_fonts();
            let installed: Vec<String> = db.faces().flat_map(|f| f.families.iter().map(|(name, _)| name.clone())).collect();
            if let Some(family) = SANS.iter().map(|s| s.to_string()).find(|s| installed.contains(s)).or_else(|| installed.first().cloned())
            {
                tracing::debug!(%family, faces = db.len(), "fonts for PNG charts");
                db.set_sans_serif_family(family);
            }
            Arc::new(db)
        })
        .clone()
}

/// The SVG as a PNG. CPU work of a few milliseconds: call it off the async threads.
pub fn from_svg(svg: &str) -> Result<Vec<u8>> {
    let fontdb = fonts();
    if fontdb.is_empty() {
        return Err(PortalError::Unavailable(
            "a PNG chart needs a font on the server and none is installed; download the SVG, or ask the portal's operator to install one"
                .into(),
        ));
    }
    let options = usvg::Options { fontdb, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| PortalError::fault("chart png: reading the svg", e))?;
    let size = tree.size();
    let (width, height) = ((size.width() * SCALE).ceil() as u32, (size.height() * SCALE).ceil() as u32);
    let mut pixmap = tiny_skia::Pixmap::new(width.max(1), height.max(1))
        .ok_or_else(|| PortalError::Internal(format!("chart png: no {width}×{height} canvas")))?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(SCALE, SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| PortalError::fault("chart png: encoding", e))
}

#[cfg(test)]
mod tests {
    use app::contract::charts::{svg, ChartData, ChartPoint};
    use app::contract::grammar::ChartKind;

    use super::*;

    fn dark_pixels(png: &[u8]) -> usize {
        let pixmap = tiny_skia::Pixmap::decode_png(png).unwrap();
        pixmap.pixels().iter().filter(|p| p.red() < 128 && p.green() < 128 && p.blue() < 128).count()
    }

    #[test]
    fn the_png_is_the_svg_at_twice_its_size_with_its_text_drawn() {
        let chart = ChartData {
            kind: ChartKind::Bar,
            title: "Rows by country".into(),
            x: "country".into(),
            measure: "Rows".into(),
            points: vec![ChartPoint { label: "DE".into(), value: 30.0 }, ChartPoint { label: "FR".into(), value: 12.0 }],
            more: false,
            label_every: None,
        };
        let drawn = svg(&chart);
        let png = from_svg(&drawn).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (1440, 808));
        // Text is dark on white; the bars are indigo. Without a font the labels would be missing.
        let unlabelled =
            from_svg(&drawn.replace("fill=\"#0f172a\"", "fill=\"#ffffff\"").replace("fill=\"#334155\"", "fill=\"#ffffff\"")).unwrap();
        assert!(dark_pixels(&png) > dark_pixels(&unlabelled) + 200, "the axis labels are drawn");
    }
}
