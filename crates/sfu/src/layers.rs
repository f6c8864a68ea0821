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
}
