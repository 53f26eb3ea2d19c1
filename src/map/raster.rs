//! Every point of the map drawn into one RGBA image.

use rayon::prelude::*;

use super::view::MapView;
use crate::linalg::{in_pool, threads};

/// The map's points: world position, layer and sub-layer of each item (item order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapPoints {
    pub xy: Vec<[f32; 2]>,
    pub layer: Vec<u16>,
    pub sublayer: Vec<u16>,
}

impl MapPoints {
    pub fn len(&self) -> usize {
        self.xy.len()
    }

    pub fn is_empty(&self) -> bool {
        self.xy.is_empty()
    }

    /// (min x, min y, max x, max y) of the finite positions; a unit square when there are none.
    pub fn bounds(&self) -> [f32; 4] {
        finite_bounds(&self.xy).unwrap_or([-1.0, -1.0, 1.0, 1.0])
    }
}

/// (min x, min y, max x, max y) of the finite positions of `xy`, if any.
pub(crate) fn finite_bounds(xy: &[[f32; 2]]) -> Option<[f32; 4]> {
    let mut b = [
        f32::INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
    ];
    for &[x, y] in xy.iter().filter(|p| p[0].is_finite() && p[1].is_finite()) {
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    b[0].is_finite().then_some(b)
}

/// Items drawn on top of the others, bigger and in one colour (search matches, a user's
/// history, their recommendations).
#[derive(Clone, Copy, Debug)]
pub struct Highlight<'a> {
    pub items: &'a [u32],
    pub colour: [u8; 4],
}

/// A drawn map: `size` pixels, row by row from the top, each RGBA with premultiplied alpha
/// packed little-endian in a `u32` (the bytes in memory are R, G, B, A). Where no point fell
/// the pixel is 0, transparent, so the panel's background shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Raster {
    pub size: [usize; 2],
    pub pixels: Vec<u32>,
}

impl Raster {
    /// Pixel (x, y) as [R, G, B, A].
    pub fn rgba(&self, x: usize, y: usize) -> [u8; 4] {
        self.pixels[y * self.size[0] + x].to_le_bytes()
    }
}

/// Points per thread below which one thread draws everything.
const PARALLEL_POINTS: usize = 100_000;

/// Draws `points` as squares of `point_size` pixels in their sub-layer's colour
/// (`colours[layer][sublayer]`); a fully transparent colour hides its points (a hidden layer
/// or sub-layer). Later items cover earlier ones.
/// With highlights the other points are dimmed and each highlight is drawn on top, two
/// pixels bigger.
pub fn rasterize(
    points: &MapPoints,
    view: &MapView,
    colours: &[Vec<[u8; 4]>],
    highlights: &[Highlight<'_>],
    point_size: usize,
) -> Raster {
    let [width, height] = view.size;
    let dim = !highlights.is_empty();
    let packed: Vec<Vec<u32>> = colours
        .iter()
        .map(|shades| {
            shades
                .iter()
                .map(|&c| pack(if dim { faded(c) } else { c }))
                .collect()
        })
        .collect();
    let draw = |range: std::ops::Range<usize>, pixels: &mut [u32]| {
        let fallback = pack([128, 128, 128, 255]);
        for i in range {
            let colour = packed
                .get(usize::from(points.layer[i]))
                .and_then(|shades| shades.get(usize::from(points.sublayer[i])))
                .copied()
                .unwrap_or(fallback);
            if colour != 0 {
                square(pixels, view, points.xy[i], point_size, colour);
            }
        }
    };
    let n = points
        .xy
        .len()
        .min(points.layer.len())
        .min(points.sublayer.len());
    let mut pixels = vec![0u32; width * height];
    let parts = threads().min(n / PARALLEL_POINTS).max(1);
    if parts == 1 {
        draw(0..n, &mut pixels);
    } else {
        // Each thread draws a run of the points into its own image; the images are laid over
        // each other in point order, so later points still cover earlier ones.
        let chunk = n.div_ceil(parts);
        let layers: Vec<Vec<u32>> = in_pool(|| {
            (0..parts)
                .into_par_iter()
                .map(|p| {
                    let mut own = vec![0u32; width * height];
                    draw(p * chunk..((p + 1) * chunk).min(n), &mut own);
                    own
                })
                .collect()
        });
        for layer in &layers {
            for (out, &v) in pixels.iter_mut().zip(layer) {
                if v != 0 {
                    *out = v;
                }
            }
        }
    }
    for highlight in highlights {
        let colour = pack(highlight.colour);
        for &item in highlight.items {
            if let Some(&xy) = points.xy.get(item as usize) {
                square(&mut pixels, view, xy, point_size + 2, colour);
            }
        }
    }
    Raster {
        size: view.size,
        pixels,
    }
}

/// Fills a `size` × `size` square centred on the point's pixel, clipped to the image.
#[inline]
fn square(pixels: &mut [u32], view: &MapView, xy: [f32; 2], size: usize, colour: u32) {
    let [width, height] = view.size;
    let [px, py] = view.to_pixel(xy);
    let half = size as f32 / 2.0;
    let (x0, y0) = ((px - half).floor(), (py - half).floor());
    // NaN fails both comparisons and is skipped with the off-image points.
    if !(x0 > -(size as f32) && y0 > -(size as f32) && x0 < width as f32 && y0 < height as f32) {
        return;
    }
    let (x0, y0) = (x0 as isize, y0 as isize);
    for y in y0.max(0)..(y0 + size as isize).min(height as isize) {
        let row = y as usize * width;
        let start = row + x0.max(0) as usize;
        let end = row + (x0 + size as isize).min(width as isize) as usize;
        pixels[start..end].fill(colour);
    }
}

/// RGBA bytes in memory order as one little-endian word.
fn pack(c: [u8; 4]) -> u32 {
    u32::from_le_bytes(c)
}

/// A colour at a third of its opacity (premultiplied), for points behind highlights.
fn faded(c: [u8; 4]) -> [u8; 4] {
    let third = |v: u8| (u16::from(v) / 3) as u8;
    [third(c[0]), third(c[1]), third(c[2]), third(c[3])]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(r: &Raster, x: usize, y: usize) -> [u8; 4] {
        r.rgba(x, y)
    }

    fn drawn(r: &Raster) -> usize {
        r.pixels.iter().filter(|&&p| p != 0).count()
    }

    #[test]
    fn points_land_where_the_view_says_in_their_colour_and_hidden_layers_vanish() {
        let points = MapPoints {
            xy: vec![[0.0, 0.0], [1.0, 1.0], [f32::NAN, 0.0], [100.0, 100.0]],
            layer: vec![0, 1, 0, 0],
            sublayer: vec![0, 1, 0, 0],
        };
        let view = MapView::fit([-1.0, -1.0, 2.0, 2.0], [50, 50]);
        let colours = vec![
            vec![[255, 0, 0, 255]],
            vec![[0, 0, 255, 255], [0, 255, 0, 255]],
        ];
        let r = rasterize(&points, &view, &colours, &[], 2);
        let [x, y] = view.to_pixel([0.0, 0.0]);
        assert_eq!(pixel(&r, x as usize, y as usize), [255, 0, 0, 255]);
        let [x, y] = view.to_pixel([1.0, 1.0]);
        assert_eq!(pixel(&r, x as usize, y as usize), [0, 255, 0, 255]);
        assert_eq!(
            drawn(&r),
            8,
            "two 2×2 squares; NaN and off-image points skipped"
        );
        // A transparent colour hides a sub-layer.
        let mut some_hidden = colours.clone();
        some_hidden[1][1] = [0, 0, 0, 0];
        let hidden = rasterize(&points, &view, &some_hidden, &[], 2);
        assert_eq!(drawn(&hidden), 4);
        // A highlight dims the rest and sits on top, bigger.
        let items = [1u32];
        let lit = rasterize(
            &points,
            &view,
            &colours,
            &[Highlight {
                items: &items,
                colour: [255, 255, 0, 255],
            }],
            2,
        );
        let [x, y] = view.to_pixel([1.0, 1.0]);
        assert_eq!(pixel(&lit, x as usize, y as usize), [255, 255, 0, 255]);
        let [x, y] = view.to_pixel([0.0, 0.0]);
        assert_eq!(pixel(&lit, x as usize, y as usize), [85, 0, 0, 85]);
        assert_eq!(drawn(&lit), 4 + 16);
    }

    #[test]
    fn drawing_on_many_threads_gives_the_one_thread_image() {
        // Overlapping points of different layers: the later one must stay on top.
        let n = 4 * PARALLEL_POINTS + 17;
        let points = MapPoints {
            xy: (0..n)
                .map(|i| [(i % 97) as f32 / 97.0, (i % 89) as f32 / 89.0])
                .collect(),
            layer: (0..n).map(|i| (i % 3) as u16).collect(),
            sublayer: vec![0; n],
        };
        let view = MapView::fit([0.0, 0.0, 1.0, 1.0], [64, 48]);
        let colours: Vec<Vec<[u8; 4]>> = (0..3).map(|l| vec![[l * 80 + 10, 5, 5, 255]]).collect();
        let parallel = rasterize(&points, &view, &colours, &[], 2);
        let mut serial = vec![0u32; 64 * 48];
        for i in 0..n {
            let colour = pack(colours[usize::from(points.layer[i])][0]);
            square(&mut serial, &view, points.xy[i], 2, colour);
        }
        assert_eq!(parallel.pixels, serial);
    }
}
