//! Which rows of a long log are in the DOM: the arithmetic of a virtualized list.
//!
//! Rows have different heights (a one-word reply, a long markdown message, an image), so
//! each row has a height: measured once it has been rendered, estimated before. The
//! layout keeps the running sum of heights, so finding the rows under a scroll position is
//! a binary search and the space above and below the rendered window is two subtractions,
//! whatever the length of the history.

use std::ops::Range;

/// Row tops as running sums of row heights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// `tops[i]` is the top of row `i`; the last entry is the total height.
    tops: Vec<f64>,
}

/// The rows to render and the space that stands in for the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub rows: Range<usize>,
    /// Height of the rows above the window.
    pub pad_top: f64,
    /// Height of the rows below the window.
    pub pad_bottom: f64,
}

impl Layout {
    pub fn new(heights: impl IntoIterator<Item = f64>) -> Self {
        let mut tops = vec![0.0];
        let mut sum = 0.0;
        for h in heights {
            sum += h.max(0.0);
            tops.push(sum);
        }
        Layout { tops }
    }

    pub fn len(&self) -> usize {
        self.tops.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn total(&self) -> f64 {
        *self.tops.last().unwrap_or(&0.0)
    }

    /// Top of row `i` (the total height for `i == len`).
    pub fn top(&self, i: usize) -> f64 {
        self.tops[i.min(self.len())]
    }

    /// The row that covers `y` (the last row for `y` at or past the end).
    pub fn row_at(&self, y: f64) -> usize {
        if self.is_empty() {
            return 0;
        }
        // The last top that is <= y.
        let i = self.tops.partition_point(|&t| t <= y);
        i.saturating_sub(1).min(self.len() - 1)
    }

    /// The rows that intersect `[scroll_top - overscan, scroll_top + viewport + overscan]`,
    /// never more than `max_rows` (a window of tiny rows stays bounded).
    pub fn window(&self, scroll_top: f64, viewport: f64, overscan: f64, max_rows: usize) -> Window {
        if self.is_empty() {
            return Window {
                rows: 0..0,
                pad_top: 0.0,
                pad_bottom: 0.0,
            };
        }
        let from = (scroll_top - overscan).max(0.0);
        let to = scroll_top + viewport + overscan;
        let start = self.row_at(from);
        let mut end = (self.row_at(to) + 1).min(self.len());
        end = end.min(start + max_rows.max(1));
        Window {
            rows: start..end,
            pad_top: self.top(start),
            pad_bottom: self.total() - self.top(end),
        }
    }
}

/// Where the agent is reading: a row and how far into it the viewport's top is. Kept
/// across a change of the rows (history loaded above, a row measured taller than its
/// estimate) and turned back into a scroll position, so what the agent reads stays still.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub key: String,
    pub offset: f64,
}

impl Anchor {
    /// The anchor for `scroll_top` in `layout`, whose rows are named by `keys`: the first
    /// row at or below the top of the viewport that `anchorable` accepts. Rows that can
    /// move with the content (a day separator that moves up when older messages of that
    /// day arrive) must not be anchors.
    pub fn at(
        layout: &Layout,
        keys: &[String],
        scroll_top: f64,
        anchorable: impl Fn(&str) -> bool,
    ) -> Option<Anchor> {
        if layout.is_empty() {
            return None;
        }
        let first = layout.row_at(scroll_top);
        let i = (first..layout.len()).find(|&i| keys.get(i).is_some_and(|k| anchorable(k)))?;
        Some(Anchor {
            key: keys[i].clone(),
            offset: scroll_top - layout.top(i),
        })
    }

    /// The scroll position that puts the anchor back where it was, if its row still exists.
    pub fn scroll_top(&self, layout: &Layout, keys: &[String]) -> Option<f64> {
        let i = keys.iter().position(|k| *k == self.key)?;
        Some(layout.top(i) + self.offset)
    }
}
