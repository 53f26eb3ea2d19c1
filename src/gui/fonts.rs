//! Chinese text: egui's built-in fonts have no CJK glyphs, so Strata embeds a
//! Noto Sans SC subset covering GB2312 (assets/fonts, SIL OFL 1.1) and adds the
//! first system CJK font found behind it for rarer characters. Embedding makes
//! rendering, tests and screenshots the same on every machine.

use std::sync::Arc;

const BUNDLED_SC: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-Regular-GB2312.otf");

/// System fonts with wider coverage, with the face index of Simplified Chinese.
const SYSTEM_CANDIDATES: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
    ),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("C:\\Windows\\Fonts\\msyh.ttc", 0),
];

/// egui's fonts, then the bundled Chinese subset, then a system CJK font if any.
pub fn definitions() -> egui::FontDefinitions {
    let mut fonts = egui::FontDefinitions::default();
    let mut fallbacks = vec![(
        "noto-sans-sc".to_owned(),
        egui::FontData::from_static(BUNDLED_SC),
    )];
    if let Some((path, index)) = SYSTEM_CANDIDATES
        .iter()
        .find(|(p, _)| std::path::Path::new(p).is_file())
        && let Ok(bytes) = std::fs::read(path)
    {
        let mut data = egui::FontData::from_owned(bytes);
        data.index = *index;
        fallbacks.push(("system-cjk".to_owned(), data));
    }
    for (name, data) in fallbacks {
        fonts.font_data.insert(name.clone(), Arc::new(data));
        for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
            fonts.families.entry(family).or_default().push(name.clone());
        }
    }
    fonts
}

pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions());
}
