//! The admin table of Admin Management: search, sort and pages, parsed from the page's query
//! string.

use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 25;
pub const MAX_SEARCH_CHARS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Name,
    Username,
    Email,
    Role,
    TwoFactor,
    LastSignIn,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::Name,
        SortKey::Username,
        SortKey::Email,
        SortKey::Role,
        SortKey::TwoFactor,
        SortKey::LastSignIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Username => "username",
            SortKey::Email => "email",
            SortKey::Role => "role",
            SortKey::TwoFactor => "2fa",
            SortKey::LastSignIn => "last_sign_in",
        }
    }

    pub fn parse(value: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// Which admins a page shows, and in what order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// The default: admins with a pending reset request first (oldest request first), then
    /// everyone else by name.
    PendingFirst,
    /// Everyone, in the order asked for.
    Sorted,
    /// Only admins with a pending reset request ("Pending resets (N)").
    PendingOnly,
}

/// Where a page starts when it is reached by "Next" or "Previous": right after the last row of
/// the page before it, or right before the first row of the page after it (keyset pagination:
/// the database seeks to that row through the sort's index instead of counting past every row
/// before it). The page number then only names the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    /// The rows after this admin.
    After(i64),
    /// The rows before this admin.
    Before(i64),
}

/// A request for one page of the table, normalised: unknown sort keys fall back to name,
/// pages start at 1, the search is trimmed and bounded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableQuery {
    pub search: String,
    pub sort: SortKey,
    pub descending: bool,
    pub page: i64,
    pub view: View,
    /// Set by "Next" and "Previous"; a page asked for by number alone has none.
    pub cursor: Option<Cursor>,
}

/// Where one page of the pending-first view takes its rows: a slice of the pending admins,
/// then a slice of everyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub pending_offset: i64,
    pub pending_limit: i64,
    pub rest_offset: i64,
    pub rest_limit: i64,
}

/// The rows of the page starting at `offset` when `pending` admins come first.
pub fn pending_first_window(offset: i64, pending: i64) -> Window {
    let pending_limit = (pending - offset).clamp(0, PAGE_SIZE);
    Window {
        pending_offset: offset.min(pending),
        pending_limit,
        rest_offset: (offset - pending).max(0),
        rest_limit: PAGE_SIZE - pending_limit,
    }
}

impl TableQuery {
    /// `sort` empty: the default view (pending requests first, then by name). `pending`: only
    /// admins with a pending request.
    pub fn parse(search: &str, sort: &str, dir: &str, page: i64) -> TableQuery {
        TableQuery {
            // Control characters are never part of a name, email or username (and a NUL ends
            // an FTS5 query early): dropped.
            search: search
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .trim()
                .chars()
                .take(MAX_SEARCH_CHARS)
                .collect(),
            sort: SortKey::parse(sort).unwrap_or(SortKey::Name),
            descending: dir == "desc",
            page: page.clamp(1, i64::MAX / PAGE_SIZE),
            view: if SortKey::parse(sort).is_some() {
                View::Sorted
            } else {
                View::PendingFirst
            },
            cursor: None,
        }
    }

    /// The same query, continuing after (or before) an admin of the page next to it. Ids that
    /// cannot be an admin's are ignored; `after` wins when both are given. Page 1 never needs
    /// one.
    pub fn with_cursor(self, after: Option<i64>, before: Option<i64>) -> TableQuery {
        let cursor = match (after.filter(|id| *id > 0), before.filter(|id| *id > 0)) {
            _ if self.page == 1 => None,
            (Some(id), _) => Some(Cursor::After(id)),
            (None, Some(id)) => Some(Cursor::Before(id)),
            (None, None) => None,
        };
        TableQuery { cursor, ..self }
    }

    /// The same query, showing only admins with a pending request.
    pub fn pending_only(self) -> TableQuery {
        TableQuery {
            view: View::PendingOnly,
            ..self
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE
    }

    /// A `LIKE` pattern matching the search anywhere, with `\` escaping `%`, `_` and `\`.
    pub fn like_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.search.len() + 2);
        pattern.push('%');
        for c in self.search.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

/// Number of pages for `total` rows (at least 1, so an empty table has page 1 of 1).
pub fn page_count(total: i64) -> i64 {
    ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let q = TableQuery::parse("  Ada ", "email", "desc", 3);
        assert_eq!(q.search, "Ada");
        assert_eq!(q.sort, SortKey::Email);
        assert!(q.descending);
        assert_eq!(q.offset(), 2 * PAGE_SIZE);
        let odd = TableQuery::parse(&"x".repeat(10_000), "password_hash; DROP", "sideways", -5);
        assert_eq!(odd.search.len(), MAX_SEARCH_CHARS);
        assert_eq!(odd.sort, SortKey::Name);
        assert!(!odd.descending);
        assert_eq!(odd.page, 1);
        assert!(TableQuery::parse("", "name", "asc", i64::MAX).offset() > 0);
    }

    #[test]
    fn cursors_only_for_pages_after_the_first() {
        let q = TableQuery::parse("", "name", "asc", 3);
        assert_eq!(q.cursor, None);
        assert_eq!(
            q.clone().with_cursor(Some(7), Some(9)).cursor,
            Some(Cursor::After(7))
        );
        assert_eq!(
            q.clone().with_cursor(Some(-7), Some(9)).cursor,
            Some(Cursor::Before(9))
        );
        assert_eq!(q.with_cursor(Some(0), None).cursor, None);
        assert_eq!(
            TableQuery::parse("", "name", "asc", 1)
                .with_cursor(Some(7), None)
                .cursor,
            None
        );
    }

    #[test]
    fn control_characters_are_not_searched_for() {
        assert_eq!(TableQuery::parse(" \0ab\u{7}c\n ", "", "", 1).search, "abc");
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(
            TableQuery::parse("Ad%a_\\", "", "", 1).like_pattern(),
            "%ad\\%a\\_\\\\%"
        );
    }

    #[test]
    fn pending_requests_come_first_across_pages() {
        // 30 pending: page 1 is all pending, page 2 the last 5 and then the first 20 others.
        assert_eq!(
            pending_first_window(0, 30),
            Window {
                pending_offset: 0,
                pending_limit: 25,
                rest_offset: 0,
                rest_limit: 0
            }
        );
        assert_eq!(
            pending_first_window(25, 30),
            Window {
                pending_offset: 25,
                pending_limit: 5,
                rest_offset: 0,
                rest_limit: 20
            }
        );
        assert_eq!(
            pending_first_window(50, 30),
            Window {
                pending_offset: 30,
                pending_limit: 0,
                rest_offset: 20,
                rest_limit: 25
            }
        );
        // None pending: the plain pages.
        assert_eq!(pending_first_window(50, 0).rest_offset, 50);
        assert_eq!(TableQuery::parse("", "", "", 1).view, View::PendingFirst);
        assert_eq!(TableQuery::parse("", "email", "", 1).view, View::Sorted);
    }

    #[test]
    fn pages() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(25), 1);
        assert_eq!(page_count(26), 2);
        assert_eq!(page_count(10_000), 400);
        for key in SortKey::ALL {
            assert_eq!(SortKey::parse(key.as_str()), Some(key));
        }
    }
}
