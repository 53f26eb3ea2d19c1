//! World (PCA) coordinates ↔ pixels of the map's image.

/// What part of the map is shown, at which size. Pixel y grows downwards, world y upwards.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapView {
    /// World point at the centre of the image.
    pub centre: [f32; 2],
    /// Pixels per world unit (the same on both axes, so shapes keep their proportions).
    pub pixels_per_unit: f32,
    /// Image size in pixels.
    pub size: [usize; 2],
}

impl MapView {
    /// The view that shows all of `bounds` (min x, min y, max x, max y) with a margin.
    pub fn fit(bounds: [f32; 4], size: [usize; 2]) -> Self {
        let [x0, y0, x1, y1] = bounds;
        let (width, height) = ((x1 - x0).max(1e-6), (y1 - y0).max(1e-6));
        let margin = 0.94;
        let pixels_per_unit = (size[0] as f32 / width)
            .min(size[1] as f32 / height)
            .max(1e-6)
            * margin;
        Self {
            centre: [(x0 + x1) / 2.0, (y0 + y1) / 2.0],
            pixels_per_unit,
            size,
        }
    }

    /// Pixel position (x right, y down) of a world point; may lie outside the image.
    #[inline]
    pub fn to_pixel(&self, world: [f32; 2]) -> [f32; 2] {
        [
            (world[0] - self.centre[0]) * self.pixels_per_unit + self.size[0] as f32 / 2.0,
            (self.centre[1] - world[1]) * self.pixels_per_unit + self.size[1] as f32 / 2.0,
        ]
    }

    /// World point under a pixel position.
    pub fn to_world(&self, pixel: [f32; 2]) -> [f32; 2] {
        [
            (pixel[0] - self.size[0] as f32 / 2.0) / self.pixels_per_unit + self.centre[0],
            self.centre[1] - (pixel[1] - self.size[1] as f32 / 2.0) / self.pixels_per_unit,
        ]
    }

    /// Moves the view by a drag of `delta` pixels (the map follows the pointer).
    pub fn pan(&mut self, delta: [f32; 2]) {
        self.centre[0] -= delta[0] / self.pixels_per_unit;
        self.centre[1] += delta[1] / self.pixels_per_unit;
    }

    /// Zooms by `factor` (> 1 zooms in) keeping the world point under `pixel` in place.
    pub fn zoom_at(&mut self, pixel: [f32; 2], factor: f32) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let anchor = self.to_world(pixel);
        self.pixels_per_unit = (self.pixels_per_unit * factor).clamp(1e-6, 1e9);
        let moved = self.to_pixel(anchor);
        self.pan([pixel[0] - moved[0], pixel[1] - moved[1]]);
    }

    /// The same view at another image size (the centre and scale stay).
    pub fn resized(self, size: [usize; 2]) -> Self {
        Self { size, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_and_world_round_trip_and_zoom_keeps_the_anchor() {
        let mut view = MapView::fit([-1.0, -2.0, 3.0, 2.0], [400, 200]);
        let p = [0.5, 1.5];
        let back = view.to_world(view.to_pixel(p));
        assert!((back[0] - p[0]).abs() < 1e-5 && (back[1] - p[1]).abs() < 1e-5);
        // World y up is pixel y down.
        assert!(view.to_pixel([0.0, 1.0])[1] < view.to_pixel([0.0, 0.0])[1]);
        // Every corner of the bounds is inside the image.
        for corner in [[-1.0, -2.0], [3.0, 2.0]] {
            let [x, y] = view.to_pixel(corner);
            assert!(
                (0.0..=400.0).contains(&x) && (0.0..=200.0).contains(&y),
                "{x} {y}"
            );
        }
        let anchor_pixel = [100.0, 50.0];
        let anchor = view.to_world(anchor_pixel);
        view.zoom_at(anchor_pixel, 3.0);
        let after = view.to_pixel(anchor);
        assert!((after[0] - 100.0).abs() < 1e-3 && (after[1] - 50.0).abs() < 1e-3);
        let before = view.to_pixel([0.0, 0.0]);
        view.pan([10.0, -5.0]);
        let moved = view.to_pixel([0.0, 0.0]);
        assert!((moved[0] - before[0] - 10.0).abs() < 1e-3);
        assert!((moved[1] - before[1] + 5.0).abs() < 1e-3);
    }
}
