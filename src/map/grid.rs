//! Which point is under the pointer, without looking at every point.

use super::raster::finite_bounds;

/// Points bucketed in a uniform grid over their bounds (about 4 per cell), each cell's
/// points stored together. A query looks only at the cells its radius touches.
#[derive(Clone, Debug, PartialEq)]
pub struct GridIndex {
    origin: [f32; 2],
    cell: f32,
    columns: usize,
    rows: usize,
    /// Cell c's points are `items[starts[c]..starts[c + 1]]`.
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl GridIndex {
    /// Indexes `xy` (non-finite positions are left out).
    pub fn new(xy: &[[f32; 2]]) -> Self {
        let b = finite_bounds(xy).unwrap_or([0.0, 0.0, 1.0, 1.0]);
        let (width, height) = ((b[2] - b[0]).max(1e-6), (b[3] - b[1]).max(1e-6));
        let cells = (xy.len() / 4).clamp(1, 1 << 22) as f32;
        let cell = (width * height / cells).sqrt().max(1e-6);
        let columns = ((width / cell).floor() as usize + 1).min(1 << 12);
        let rows = ((height / cell).floor() as usize + 1).min(1 << 12);
        let mut index = Self {
            origin: [b[0], b[1]],
            cell,
            columns,
            rows,
            starts: vec![0; columns * rows + 1],
            items: Vec::new(),
        };
        // Counting sort by cell: items stay in index order within a cell.
        let cell_of: Vec<Option<usize>> = xy
            .iter()
            .map(|p| (p[0].is_finite() && p[1].is_finite()).then(|| index.cell_of(*p)))
            .collect();
        for c in cell_of.iter().flatten() {
            index.starts[c + 1] += 1;
        }
        for c in 0..columns * rows {
            index.starts[c + 1] += index.starts[c];
        }
        let mut next = index.starts.clone();
        index.items = vec![0; index.starts[columns * rows] as usize];
        for (item, c) in cell_of.iter().enumerate() {
            if let Some(c) = *c {
                index.items[next[c] as usize] = item as u32;
                next[c] += 1;
            }
        }
        index
    }

    fn column_row(&self, p: [f32; 2]) -> (isize, isize) {
        (
            ((p[0] - self.origin[0]) / self.cell).floor() as isize,
            ((p[1] - self.origin[1]) / self.cell).floor() as isize,
        )
    }

    fn cell_of(&self, p: [f32; 2]) -> usize {
        let (c, r) = self.column_row(p);
        let c = c.clamp(0, self.columns as isize - 1) as usize;
        let r = r.clamp(0, self.rows as isize - 1) as usize;
        r * self.columns + c
    }

    /// The point of `xy` nearest to `at` within `radius` that `accept` lets through (hidden
    /// layers say no); ties go to the lower index.
    pub fn nearest(
        &self,
        xy: &[[f32; 2]],
        at: [f32; 2],
        radius: f32,
        accept: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        if !(radius.is_finite() && radius >= 0.0 && at[0].is_finite() && at[1].is_finite()) {
            return None;
        }
        let (c0, r0) = self.column_row([at[0] - radius, at[1] - radius]);
        let (c1, r1) = self.column_row([at[0] + radius, at[1] + radius]);
        let (c0, c1) = (c0.max(0), c1.min(self.columns as isize - 1));
        let (r0, r1) = (r0.max(0), r1.min(self.rows as isize - 1));
        let mut best: Option<(f32, u32)> = None;
        for r in r0..=r1 {
            for c in c0..=c1 {
                let cell = r as usize * self.columns + c as usize;
                let range = self.starts[cell] as usize..self.starts[cell + 1] as usize;
                for &item in &self.items[range] {
                    let p = xy[item as usize];
                    let d = (p[0] - at[0]).powi(2) + (p[1] - at[1]).powi(2);
                    let better = match best {
                        None => true,
                        Some((bd, bi)) => d < bd || (d == bd && item < bi),
                    };
                    if d <= radius * radius && better && accept(item) {
                        best = Some((d, item));
                    }
                }
            }
        }
        best.map(|(_, item)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_matches_a_scan_of_every_point() {
        // A seeded scatter with clusters and duplicates.
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) as f32) / (1u64 << 31) as f32
        };
        let mut xy: Vec<[f32; 2]> = (0..3000)
            .map(|i| {
                let centre = (i % 5) as f32 * 2.0;
                [centre + next() * 0.5, next() * 3.0]
            })
            .collect();
        xy.push(xy[10]);
        xy.push([f32::NAN, 1.0]);
        let index = GridIndex::new(&xy);
        for q in 0..500 {
            let at = [next() * 10.0 - 0.5, next() * 3.5 - 0.25];
            let radius = if q % 2 == 0 { 0.05 } else { 0.4 };
            let accept = |i: u32| !i.is_multiple_of(7);
            let scan = xy
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    accept(*i as u32)
                        && (p[0] - at[0]).powi(2) + (p[1] - at[1]).powi(2) <= radius * radius
                })
                .min_by(|a, b| {
                    let da = (a.1[0] - at[0]).powi(2) + (a.1[1] - at[1]).powi(2);
                    let db = (b.1[0] - at[0]).powi(2) + (b.1[1] - at[1]).powi(2);
                    da.total_cmp(&db).then(a.0.cmp(&b.0))
                })
                .map(|(i, _)| i as u32);
            assert_eq!(
                index.nearest(&xy, at, radius, accept),
                scan,
                "query {q} at {at:?}"
            );
        }
        assert_eq!(index.nearest(&xy, xy[10], 0.0, |_| true), Some(10));
        assert_eq!(index.nearest(&xy, [f32::NAN, 0.0], 1.0, |_| true), None);
    }
}
