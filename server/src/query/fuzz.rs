//! Property tests of the table-view grammar (every partner URL goes through it) and of the
//! sealed `_next` page tokens.

use app::contract::grammar::{TableQuery, OPERATORS};
use proptest::prelude::*;

use super::cursor::{self, Owner};
use crate::storage::UrlSigner;

/// A key the grammar reads: a column with or without an operator (known or not), or a special
/// argument.
fn key() -> impl Strategy<Value = String> {
    let ops: Vec<&'static str> = OPERATORS.iter().map(|o| o.key).chain(["bogus", ""]).collect();
    let specials = [
        "_sort",
        "_sort_desc",
        "_col",
        "_nocol",
        "_size",
        "_next",
        "_facet",
        "_version",
        "_timestamp",
        "_count",
        "_filter_column",
        "_filter_op",
        "_filter_value",
        "_search",
        "__",
    ];
    prop_oneof![
        ("[a-zA-Z_ é%+&=]{1,10}", prop::sample::select(ops)).prop_map(|(c, op)| if op.is_empty() { c } else { format!("{c}__{op}") }),
        prop::sample::select(specials.to_vec()).prop_map(String::from),
        ".{0,12}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9a-zA-Z,. -]{0,12}", ".{0,24}", Just("max".to_string()), Just("all".to_string()), "-?[0-9]{1,20}"]
}

fn encode(text: &str) -> String {
    app::contract::grammar::encode(text)
}

proptest! {
    #![proptest_config(crate::fuzz_config())]

    /// Any query string is read or refused with a message: never a panic.
    #[test]
    fn fuzz_grammar_reads_any_query_string(raw in ".{0,400}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = TableQuery::parse_query_string(&raw);
        let _ = TableQuery::parse_query_string(&String::from_utf8_lossy(&bytes));
    }

    /// A view the grammar accepts has one canonical URL, which reads back as the same view.
    #[test]
    fn fuzz_grammar_canonical_urls_read_back_as_the_same_view(pairs in prop::collection::vec((key(), value()), 0..12)) {
        let query = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        if let Ok(view) = TableQuery::parse_query_string(&query) {
            let canonical = view.to_query_string(true);
            let again = TableQuery::parse_query_string(&canonical);
            prop_assert!(again.is_ok(), "canonical `{canonical}` of `{query}` is refused: {again:?}");
            prop_assert_eq!(again.unwrap().to_query_string(true), canonical);
        }
    }

    /// A page token opens only for its owner and view, and nothing else opens at all.
    #[test]
    fn fuzz_page_tokens_open_only_for_their_owner_and_view(
        version in 0i64..1_000_000,
        offset in any::<u64>(),
        junk in ".{0,120}",
        flip in any::<prop::sample::Index>(),
    ) {
        let signer = UrlSigner::with_key(b"fuzz key", "http://portal", 60);
        let owner = Owner { table_id: "t1", recipient_id: "r1" };
        let view = TableQuery::parse_query_string("country=DE&_sort=units").unwrap();
        let token = cursor::seal(&signer, &owner, version, offset, &view);
        prop_assert_eq!(cursor::open(&signer, &token, &owner, &view).unwrap(), (version, offset));
        let stranger = Owner { table_id: "t1", recipient_id: "r2" };
        prop_assert!(cursor::open(&signer, &token, &stranger, &view).is_err());
        let other_view = TableQuery::parse_query_string("country=FR").unwrap();
        prop_assert!(cursor::open(&signer, &token, &owner, &other_view).is_err());
        prop_assert!(cursor::open(&signer, &junk, &owner, &view).is_err());
        let mut altered = token.clone().into_bytes();
        let i = flip.index(altered.len());
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        if let Ok(altered) = String::from_utf8(altered) {
            prop_assert!(altered == token || cursor::open(&signer, &altered, &owner, &view).is_err());
        }
    }
}
