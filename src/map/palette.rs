//! Layer colours: distinct hues for layers, lighter and darker shades for their sub-layers.

/// A colour (RGBA) for `layer`: hues spaced by the golden angle, so neighbouring layer
/// numbers never look alike, at a saturation and lightness readable on dark and light themes.
pub fn layer_colour(layer: usize) -> [u8; 4] {
    let hue = (layer as f32 * 137.507_77 + 20.0) % 360.0;
    hsl(hue, 0.62, 0.55)
}

/// A shade of `layer`'s colour for sub-layer `sublayer` of `count`: from darker to lighter.
pub fn sublayer_colour(layer: usize, sublayer: usize, count: usize) -> [u8; 4] {
    let hue = (layer as f32 * 137.507_77 + 20.0) % 360.0;
    let lightness = if count <= 1 {
        0.55
    } else {
        0.40 + 0.30 * sublayer as f32 / (count - 1) as f32
    };
    hsl(hue, 0.62, lightness)
}

fn hsl(hue: f32, saturation: f32, lightness: f32) -> [u8; 4] {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let h = hue / 60.0;
    let x = chroma * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    let byte = |v: f32| ((v + m).clamp(0.0, 1.0) * 255.0).round() as u8;
    [byte(r), byte(g), byte(b), 255]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_differ_and_shades_go_from_dark_to_light() {
        let colours: Vec<[u8; 4]> = (0..12).map(layer_colour).collect();
        for (a, ca) in colours.iter().enumerate() {
            for cb in &colours[a + 1..] {
                let distance: i32 = ca
                    .iter()
                    .zip(cb)
                    .map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs())
                    .sum();
                assert!(distance > 30, "{ca:?} vs {cb:?}");
            }
        }
        let brightness = |c: [u8; 4]| u32::from(c[0]) + u32::from(c[1]) + u32::from(c[2]);
        assert!(brightness(sublayer_colour(3, 0, 4)) < brightness(sublayer_colour(3, 3, 4)));
    }
}
