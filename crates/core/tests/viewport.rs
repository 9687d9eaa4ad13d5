//! The virtualized list's arithmetic: windows, padding and the reading anchor.

use parley_core::viewport::{Anchor, Layout};
use proptest::prelude::*;

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i}")).collect()
}

#[test]
fn tops_are_running_sums() {
    let l = Layout::new([10.0, 20.0, 30.0]);
    assert_eq!(l.len(), 3);
    assert_eq!(
        (l.top(0), l.top(1), l.top(2), l.top(3)),
        (0.0, 10.0, 30.0, 60.0)
    );
    assert_eq!(l.total(), 60.0);
}

#[test]
fn row_at_finds_the_row_under_a_position() {
    let l = Layout::new([10.0, 20.0, 30.0]);
    assert_eq!(l.row_at(0.0), 0);
    assert_eq!(l.row_at(9.9), 0);
    assert_eq!(l.row_at(10.0), 1);
    assert_eq!(l.row_at(59.0), 2);
    assert_eq!(l.row_at(1e9), 2);
    assert_eq!(l.row_at(-5.0), 0);
}

#[test]
fn the_window_covers_the_viewport_and_the_overscan_and_pads_the_rest() {
    let l = Layout::new(vec![50.0; 1000]);
    let w = l.window(5000.0, 500.0, 100.0, 200);
    // 4900..5600 → rows 98..=112.
    assert_eq!(w.rows, 98..113);
    assert_eq!(w.pad_top, 98.0 * 50.0);
    assert_eq!(w.pad_bottom, (1000.0 - 113.0) * 50.0);
}

#[test]
fn the_window_is_bounded_whatever_the_history_length() {
    for n in [100usize, 10_000, 100_000] {
        let l = Layout::new(vec![40.0; n]);
        let w = l.window(l.total() - 800.0, 800.0, 400.0, 120);
        assert!(w.rows.len() <= 120, "{n}: {:?}", w.rows);
        assert_eq!(w.rows.end, n, "at the bottom the last row is rendered");
    }
    // Tiny rows would make the viewport cover thousands: max_rows caps it.
    let l = Layout::new(vec![0.5; 10_000]);
    assert_eq!(l.window(0.0, 1000.0, 0.0, 120).rows, 0..120);
}

#[test]
fn an_empty_layout_renders_nothing() {
    let l = Layout::new(Vec::<f64>::new());
    let w = l.window(0.0, 500.0, 100.0, 100);
    assert!(w.rows.is_empty());
    assert_eq!((w.pad_top, w.pad_bottom), (0.0, 0.0));
}

#[test]
fn the_anchor_keeps_the_read_row_still_when_history_lands_above() {
    let before = Layout::new(vec![30.0; 20]);
    let k = keys(20);
    let anchor = Anchor::at(&before, &k, 95.0, |_| true).unwrap();
    assert_eq!(anchor.key, "k3");
    assert_eq!(anchor.offset, 5.0);
    // Ten older rows of 40 px land above.
    let mut k2: Vec<String> = (0..10).map(|i| format!("old{i}")).collect();
    k2.extend(k);
    let after = Layout::new(vec![40.0; 10].into_iter().chain(vec![30.0; 20]));
    assert_eq!(anchor.scroll_top(&after, &k2), Some(400.0 + 90.0 + 5.0));
}

#[test]
fn the_anchor_absorbs_a_row_above_measured_taller_than_its_estimate() {
    let k = keys(5);
    let estimated = Layout::new([50.0, 50.0, 50.0, 50.0, 50.0]);
    let anchor = Anchor::at(&estimated, &k, 160.0, |_| true).unwrap();
    assert_eq!(anchor.key, "k3");
    let measured = Layout::new([50.0, 120.0, 50.0, 50.0, 50.0]);
    assert_eq!(anchor.scroll_top(&measured, &k), Some(230.0));
}

#[test]
fn an_anchor_whose_row_is_gone_gives_no_position() {
    let l = Layout::new([10.0, 10.0]);
    let anchor = Anchor::at(&l, &keys(2), 12.0, |_| true).unwrap();
    assert_eq!(anchor.scroll_top(&l, &["x".into(), "y".into()]), None);
}

#[test]
fn a_separator_is_never_the_anchor_the_next_message_is() {
    // A day separator at the top moves up when older messages of that day arrive; the
    // message below it is what the agent reads.
    let k: Vec<String> = ["d:1", "m:1", "m:2"].map(String::from).to_vec();
    let l = Layout::new([40.0, 60.0, 60.0]);
    let anchor = Anchor::at(&l, &k, 10.0, |k| k.starts_with("m:")).unwrap();
    assert_eq!(anchor.key, "m:1");
    assert_eq!(anchor.offset, -30.0);
    // Older messages of that day land above: separator first, then them, then m:1.
    let k2: Vec<String> = ["d:1", "m:0", "m:1", "m:2"].map(String::from).to_vec();
    let l2 = Layout::new([40.0, 80.0, 60.0, 60.0]);
    assert_eq!(anchor.scroll_top(&l2, &k2), Some(120.0 - 30.0));
    // Nothing anchorable below the top: no anchor.
    assert_eq!(Anchor::at(&l, &k, 10.0, |_| false), None);
}

proptest! {
    #[test]
    fn the_window_always_contains_the_rows_in_view(
        heights in prop::collection::vec(1.0f64..400.0, 1..500),
        at in 0.0f64..1.0,
        viewport in 100.0f64..1200.0,
    ) {
        let l = Layout::new(heights.clone());
        let scroll_top = at * (l.total() - viewport).max(0.0);
        let w = l.window(scroll_top, viewport, 200.0, 10_000);
        // Padding plus the rendered rows is the whole height.
        let rendered: f64 = heights[w.rows.clone()].iter().sum();
        prop_assert!((w.pad_top + rendered + w.pad_bottom - l.total()).abs() < 1e-6);
        // Every row that intersects the viewport is rendered.
        for (i, _) in heights.iter().enumerate() {
            let (top, bottom) = (l.top(i), l.top(i + 1));
            if bottom > scroll_top && top < scroll_top + viewport {
                prop_assert!(w.rows.contains(&i), "row {} in view but not in {:?}", i, w.rows);
            }
        }
    }
}
