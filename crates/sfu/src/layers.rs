//! Simulcast layer choice: what one subscriber should receive of each
//! publisher, from the tile it shows them in and what its link carries.
//!
//! Pure functions over [`LayerInfo`]s, so the policy is tested without
//! any WebRTC in the way.

use str0m::media::Rid;

/// Until a layer's keyframe says how big it is, the layers are assumed to
/// follow the usual ladder: the top one 1280×720, each lower one half.
const NOMINAL_TOP: (u32, u32) = (1280, 720);

/// One simulcast layer of a publisher's video, as the SFU sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LayerInfo {
    pub(crate) rid: Rid,
    /// From the layer's last keyframe.
    pub(crate) size: Option<(u16, u16)>,
    /// Measured incoming bitrate, bits per second.
    pub(crate) bitrate: u64,
}

/// How a subscriber shows a publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Not on screen: no video needed.
    Hidden,
    /// A tile of this many pixels.
    Tile { width: u32, height: u32 },
}

/// Indices of `layers` ordered from smallest to largest picture; layers
/// without a known size keep their offered order (lowest first, as
/// documented for clients).
pub(crate) fn ordered(layers: &[LayerInfo]) -> Vec<usize> {
    let n = layers.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| {
        let (w, h) = dimensions(layers, i);
        (u64::from(w) * u64::from(h), i)
    });
    order
}

fn dimensions(layers: &[LayerInfo], i: usize) -> (u32, u32) {
    match layers[i].size {
        Some((w, h)) => (u32::from(w), u32::from(h)),
        None => {
            let shift = (layers.len() - 1 - i).min(8) as u32;
            (NOMINAL_TOP.0 >> shift, NOMINAL_TOP.1 >> shift)
        }
    }
}

/// The smallest layer that fills the tile (the largest if none does), as
/// a position in `ordered(layers)`; `None` when nothing should be sent.
pub(crate) fn for_view(layers: &[LayerInfo], view: View) -> Option<usize> {
    let View::Tile { width, height } = view else {
        return None;
    };
    if layers.is_empty() || width == 0 || height == 0 {
        return None;
    }
    let order = ordered(layers);
    let fits = order.iter().position(|&i| {
        let (w, h) = dimensions(layers, i);
        w >= width && h >= height
    });
    Some(fits.unwrap_or(order.len() - 1))
}

/// Lowers choices until their sum fits `budget` bits per second, taking
/// from whichever publisher currently costs most. Never goes below each
/// publisher's lowest layer: a thumbnail that stutters beats a black tile,
/// and audio (outside this budget) matters more than either.
///
/// `choices[k]` is a position in `ordered(publishers[k])`.
pub(crate) fn fit_budget(publishers: &[&[LayerInfo]], choices: &mut [Option<usize>], budget: u64) {
    let orders: Vec<Vec<usize>> = publishers.iter().map(|l| ordered(l)).collect();
    let cost = |k: usize, pos: usize| publishers[k][orders[k][pos]].bitrate;
    loop {
        let total: u64 = choices
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.map(|pos| cost(k, pos)))
            .sum();
        if total <= budget {
            return;
        }
        let dearest = choices
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.filter(|&pos| pos > 0).map(|pos| (k, cost(k, pos))))
            .max_by_key(|&(_, c)| c);
        let Some((k, _)) = dearest else { return };
        if let Some(pos) = choices[k].as_mut() {
            *pos -= 1;
        }
    }
}

/// How much of the budget a move up may use: the rest is room for the
/// estimate to wobble without the layer being dropped again at once.
pub(crate) const UPGRADE_SHARE: f64 = 0.8;

/// Gives layers that have not been measured yet (never sent, or not
/// since a restart) a cost scaled from a measured one by picture area,
/// so an unmeasured layer never looks free. VP8 at four times the pixels
/// takes roughly 2.8 times the bits, hence the 0.75 power.
pub(crate) fn estimate_unmeasured(layers: &mut [LayerInfo]) {
    let order = ordered(layers);
    let area = |i: usize| {
        let (w, h) = dimensions(layers, i);
        (f64::from(w) * f64::from(h)).max(1.0)
    };
    let measured: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| layers[i].bitrate > 0)
        .collect();
    let costs: Vec<u64> = (0..layers.len())
        .map(|i| {
            if layers[i].bitrate > 0 {
                return layers[i].bitrate;
            }
            let rank = |j: usize| order.iter().position(|&o| o == j).unwrap_or(0);
            let nearest = measured
                .iter()
                .copied()
                .min_by_key(|&j| rank(i).abs_diff(rank(j)));
            nearest.map_or(0, |j| {
                (layers[j].bitrate as f64 * (area(i) / area(j)).powf(0.75)) as u64
            })
        })
        .collect();
    for (layer, cost) in layers.iter_mut().zip(costs) {
        layer.bitrate = cost;
    }
}

/// Chooses layers within `budget` without flapping: a publisher drops to
/// whatever fits at once, but climbs above the layer it has only when the
/// higher one fits in [`UPGRADE_SHARE`] of the budget. Every change costs
/// a keyframe, so a link near a layer's cost must not switch every tick.
///
/// `wanted[k]` is what the tile asks for and `current[k]` what is being
/// sent, both positions in `ordered(publishers[k])`.
pub(crate) fn choose_steadily(
    publishers: &[&[LayerInfo]],
    wanted: &[Option<usize>],
    current: &[Option<usize>],
    budget: u64,
) -> Vec<Option<usize>> {
    let mut fits = wanted.to_vec();
    fit_budget(publishers, &mut fits, budget);
    let mut fits_easily = fits.clone();
    fit_budget(
        publishers,
        &mut fits_easily,
        (budget as f64 * UPGRADE_SHARE) as u64,
    );
    fits.iter()
        .zip(&fits_easily)
        .zip(current)
        .map(|((&fits, &easily), &current)| match (current, fits) {
            (Some(current), Some(fits)) if current <= fits => {
                Some(current.max(easily.unwrap_or(0)))
            }
            _ => fits,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(sizes: [Option<(u16, u16)>; 3], rates: [u64; 3]) -> Vec<LayerInfo> {
        ["l", "m", "h"]
            .iter()
            .zip(sizes.iter().zip(rates))
            .map(|(rid, (size, bitrate))| LayerInfo {
                rid: (*rid).into(),
                size: *size,
                bitrate,
            })
            .collect()
    }

    fn tile(width: u32, height: u32) -> View {
        View::Tile { width, height }
    }

    #[test]
    fn the_smallest_layer_that_fills_the_tile_is_chosen() {
        let layers = ladder(
            [Some((320, 180)), Some((640, 360)), Some((1280, 720))],
            [0; 3],
        );
        assert_eq!(for_view(&layers, tile(160, 90)), Some(0));
        assert_eq!(for_view(&layers, tile(480, 270)), Some(1));
        assert_eq!(for_view(&layers, tile(1920, 1080)), Some(2));
        assert_eq!(for_view(&layers, View::Hidden), None);
        assert_eq!(for_view(&layers, tile(0, 0)), None);
    }

    #[test]
    fn unknown_sizes_follow_the_nominal_ladder_and_real_sizes_reorder() {
        let unknown = ladder([None; 3], [0; 3]);
        assert_eq!(for_view(&unknown, tile(600, 340)), Some(1));
        // A client that offered its layers high first: keyframes sort it out.
        let reversed = ladder(
            [Some((1280, 720)), Some((640, 360)), Some((320, 180))],
            [0; 3],
        );
        assert_eq!(ordered(&reversed), vec![2, 1, 0]);
    }

    #[test]
    fn a_tight_budget_lowers_the_dearest_publisher_first() {
        let a = ladder([None; 3], [150_000, 500_000, 1_500_000]);
        let b = ladder([None; 3], [100_000, 400_000, 1_200_000]);
        let publishers = [a.as_slice(), b.as_slice()];
        let mut choices = [Some(2), Some(2)];
        fit_budget(&publishers, &mut choices, 2_000_000);
        assert_eq!(choices, [Some(1), Some(2)]);
        fit_budget(&publishers, &mut choices, 10_000);
        assert_eq!(choices, [Some(0), Some(0)], "never below the lowest layer");
        let mut hidden = [None, Some(2)];
        fit_budget(&publishers, &mut hidden, 1_300_000);
        assert_eq!(hidden, [None, Some(2)]);
    }

    #[test]
    fn an_unmeasured_layer_costs_what_its_picture_area_suggests() {
        let mut layers = ladder(
            [Some((320, 180)), Some((640, 360)), Some((1280, 720))],
            [100_000, 0, 0],
        );
        estimate_unmeasured(&mut layers);
        let rates: Vec<u64> = layers.iter().map(|l| l.bitrate).collect();
        assert!((270_000..300_000).contains(&rates[1]), "{rates:?}");
        assert!((780_000..820_000).contains(&rates[2]), "{rates:?}");
        // Scaled from the nearest measured layer, down as well as up.
        let mut top_only = ladder([None; 3], [0, 0, 1_000_000]);
        estimate_unmeasured(&mut top_only);
        assert!(top_only[1].bitrate < 400_000 && top_only[0].bitrate < top_only[1].bitrate);
        let mut none = ladder([None; 3], [0; 3]);
        estimate_unmeasured(&mut none);
        assert!(none.iter().all(|l| l.bitrate == 0), "nothing to scale from");
    }

    #[test]
    fn layers_drop_at_once_but_climb_only_with_room_to_spare() {
        let a = ladder([None; 3], [150_000, 500_000, 1_500_000]);
        let publishers = [a.as_slice()];
        let choose = |current, budget| choose_steadily(&publishers, &[Some(2)], &[current], budget);
        // Over budget: down at once, to what fits.
        assert_eq!(choose(Some(2), 1_000_000), vec![Some(1)]);
        // The top layer fits, but only just: stay on the middle one.
        assert_eq!(choose(Some(1), 1_600_000), vec![Some(1)]);
        // Already on top and it still fits: stay.
        assert_eq!(choose(Some(2), 1_600_000), vec![Some(2)]);
        // Plenty of room: climb.
        assert_eq!(choose(Some(1), 2_000_000), vec![Some(2)]);
        // Nothing sent yet: take what fits.
        assert_eq!(choose(None, 1_600_000), vec![Some(2)]);
        // A smaller tile lowers the layer whatever the budget.
        assert_eq!(
            choose_steadily(&publishers, &[Some(0)], &[Some(2)], 10_000_000),
            vec![Some(0)]
        );
    }
}
