//! Property tests over seeds × the 24 keys × the six content types × the
//! four difficulties (plus meter, style and voicing variants): every item
//! passes the invariants in `common::check`, generation is deterministic,
//! parameters regenerate the item, transposition keeps the music, and no
//! input makes the engine panic.

mod common;

use common::{check, request};
use jazz_music::key::Key;
use jazz_music::{ContentType, Difficulty, GenerationRequest, generate};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// The fixed seed CI runs with, so every run checks the same cases (the
/// persisted failures in `properties.proptest-regressions` run first).
/// `PROPTEST_RNG_SEED` and `PROPTEST_CASES` still override it locally, e.g.
/// `PROPTEST_RNG_SEED=7 PROPTEST_CASES=3000 cargo test -p jazz-music --release`.
const RNG_SEED: u64 = 0x6a61_7a7a_2d6d_7573;

fn config() -> ProptestConfig {
    let env = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    let base = ProptestConfig::default();
    ProptestConfig {
        cases: if env("PROPTEST_CASES") { base.cases } else { 300 },
        rng_seed: if env("PROPTEST_RNG_SEED") { base.rng_seed } else { RngSeed::Fixed(RNG_SEED) },
        ..base
    }
}

fn content_type() -> impl Strategy<Value = ContentType> {
    prop::sample::select(ContentType::ALL.to_vec())
}

fn difficulty() -> impl Strategy<Value = Difficulty> {
    prop::sample::select(Difficulty::ALL.to_vec())
}

/// Every key × type × difficulty, three seeds each: 1,728 items.
#[test]
fn exhaustive_sweep_passes_every_invariant() {
    let mut n = 0;
    for k in 0..24 {
        for ct in ContentType::ALL {
            for d in Difficulty::ALL {
                for s in 0..3u64 {
                    let seed = (k as u64) * 1_000 + s * 7 + 13;
                    let req = request(*ct, *d, k, seed, (k + s as usize) as u8);
                    let item = generate(&req).unwrap_or_else(|e| panic!("{req:?}: {e}"));
                    if let Err(msg) = check(&item) {
                        panic!("{msg}\nrequest: {req:?}");
                    }
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 24 * 6 * 4 * 3);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_items_pass_every_invariant(seed in any::<u64>(), k in 0usize..24, ct in content_type(), d in difficulty(), variant in 0u8..6) {
        let req = request(ct, d, k, seed, variant);
        let item = generate(&req).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(check(&item).is_ok(), "{:?}", check(&item));
    }

    #[test]
    fn same_parameters_and_seed_give_identical_bytes(seed in any::<u64>(), k in 0usize..24, ct in content_type(), d in difficulty()) {
        let req = request(ct, d, k, seed, 0);
        let a = generate(&req).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = generate(&req).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(serde_json::to_vec(&a).ok(), serde_json::to_vec(&b).ok());
        prop_assert_eq!(a.score.to_music_xml(), b.score.to_music_xml());
        prop_assert_eq!(a.score.to_midi(), b.score.to_midi());
        // the recorded parameters regenerate the same item
        let again = generate(&GenerationRequest::from(&a.parameters)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, a);
    }

    #[test]
    fn engine_chosen_parameters_are_recorded(seed in any::<u64>(), ct in content_type(), d in difficulty()) {
        let mut req = GenerationRequest::new(ct, d);
        req.seed = Some(seed);
        let item = generate(&req).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(check(&item).is_ok(), "{:?}", check(&item));
        let again = generate(&GenerationRequest::from(&item.parameters)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &item);
        let key = item.score.key.key().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let limit = match d { Difficulty::Beginner => 1, Difficulty::Intermediate => 3, Difficulty::Advanced => 5, Difficulty::Expert => 6 };
        prop_assert!(key.fifths().abs() <= limit, "{} for {:?}", key, d);
    }

    #[test]
    fn transposition_to_every_key_keeps_the_music(seed in any::<u64>(), k in 0usize..24, ct in content_type(), d in difficulty()) {
        let item = generate(&request(ct, d, k, seed, 0)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let src: Vec<i32> = item.score.attacks().iter().map(|a| a.2.midi()).collect();
        for target in Key::all24().into_iter().filter(|t| t.mode == item.score.key.mode) {
            let t = item.score.transpose_to(&target.code()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let moved = jazz_music::GeneratedItem { score: t.clone(), ..item.clone() };
            prop_assert!(check(&moved).is_ok(), "{:?}", check(&moved));
            let dst: Vec<i32> = t.attacks().iter().map(|a| a.2.midi()).collect();
            let shift = dst.first().zip(src.first()).map_or(0, |(a, b)| a - b);
            prop_assert!(shift.abs() <= 6);
            prop_assert!(src.iter().zip(&dst).all(|(a, b)| b - a == shift));
            prop_assert_eq!(t.key.fifths as i32, target.fifths());
        }
    }

    #[test]
    fn arbitrary_strings_never_panic_and_blame_the_right_field(
        text in "\\PC{0,12}", which in 0usize..10, seed in any::<u64>(), ct in content_type(), d in difficulty()
    ) {
        let mut req = GenerationRequest::new(ct, d);
        req.seed = Some(seed);
        let field = match which {
            0 => { req.key = Some(text.clone()); "key" }
            1 => { req.mode = Some(text.clone()); "mode" }
            2 => { req.time_signature = Some(text.clone()); "time_signature" }
            3 => { req.style = Some(text.clone()); "style" }
            4 => { req.progression = Some(text.clone()); "progression" }
            5 => { req.voicing = Some(text.clone()); "voicing" }
            6 => { req.range_low = Some(text.clone()); "range" }
            7 => { req.range_high = Some(text.clone()); "range" }
            8 => { req.scale = Some(text.clone()); req.content_type = ContentType::ScalePattern; "scale" }
            _ => { req.pattern = Some(text.clone()); req.content_type = ContentType::ScalePattern; "pattern" }
        };
        match generate(&req) {
            Ok(item) => prop_assert!(check(&item).is_ok(), "{:?}", check(&item)),
            Err(e) => prop_assert_eq!(e.field(), field, "{}", e),
        }
    }

    #[test]
    fn arbitrary_numbers_never_panic(tempo in any::<u32>(), bars in any::<u32>(), ct in content_type(), d in difficulty(), seed in any::<u64>()) {
        let mut req = GenerationRequest::new(ct, d);
        req.seed = Some(seed);
        req.tempo = Some(tempo);
        let max = if ct == ContentType::JazzLick { 4 } else { 64 };
        match generate(&req) {
            Ok(_) => prop_assert!((40..=320).contains(&tempo)),
            Err(e) => { prop_assert_eq!(e.field(), "tempo"); prop_assert!(!(40..=320).contains(&tempo)); }
        }
        req.tempo = None;
        req.bars = Some(bars % 200);
        match generate(&req) {
            Ok(item) => { prop_assert!((1..=max).contains(&(bars % 200))); prop_assert!(check(&item).is_ok(), "{:?}", check(&item)); }
            Err(e) => { prop_assert_eq!(e.field(), "bars"); prop_assert!(!(1..=max).contains(&(bars % 200))); }
        }
    }
}

#[test]
fn documented_invalid_inputs_name_their_field() {
    let base = GenerationRequest::new(ContentType::JazzLick, Difficulty::Intermediate);
    type Edit = Box<dyn Fn(&mut GenerationRequest)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("tempo", Box::new(|r| r.tempo = Some(0))),
        ("tempo", Box::new(|r| r.tempo = Some(321))),
        ("bars", Box::new(|r| r.bars = Some(0))),
        ("bars", Box::new(|r| r.bars = Some(1000))),
        ("key", Box::new(|r| r.key = Some("H#".into()))),
        ("mode", Box::new(|r| r.mode = Some("lydian-ish".into()))),
        ("time_signature", Box::new(|r| r.time_signature = Some("4/0".into()))),
        ("progression", Box::new(|r| r.progression = Some("giant-steps-backwards".into()))),
        ("style", Box::new(|r| r.style = Some("polka".into()))),
        ("voicing", Box::new(|r| r.voicing = Some("cluster".into()))),
        (
            "range",
            Box::new(|r| {
                r.range_low = Some("C6".into());
                r.range_high = Some("C4".into());
            }),
        ),
        (
            "range",
            Box::new(|r| {
                r.range_low = Some("C4".into());
                r.range_high = Some("G4".into());
            }),
        ),
    ];
    for (field, edit) in cases {
        let mut req = base.clone();
        edit(&mut req);
        let err = generate(&req).expect_err(field);
        assert_eq!(err.field(), field, "{err}");
    }
    assert_eq!("SUPER_HARD".parse::<Difficulty>().unwrap_err().field(), "difficulty");
    assert_eq!("SONG".parse::<ContentType>().unwrap_err().field(), "content_type");
}

#[test]
fn no_seed_means_one_is_chosen_and_reported() {
    let req = GenerationRequest::new(ContentType::Melody, Difficulty::Advanced);
    let a = generate(&req).unwrap();
    let b = jazz_music::generate_with_entropy(&req, a.parameters.seed).unwrap();
    assert_eq!(a, b);
}

#[test]
fn titles_and_tags_are_derived() {
    let mut req = GenerationRequest::new(ContentType::JazzLick, Difficulty::Intermediate);
    req.key = Some("Bb".into());
    req.style = Some("bebop".into());
    req.progression = Some("ii-V-I".into());
    req.seed = Some(1);
    let item = generate(&req).unwrap();
    assert_eq!(item.title, "ii–V–I lick in B♭ — bebop, intermediate");
    for tag in ["lick", "ii-v-i", "bebop", "b-flat-major", "intermediate"] {
        assert!(item.tags.iter().any(|t| t == tag), "{tag} in {:?}", item.tags);
    }
    // no A♯ anywhere in B♭ major
    assert!(!item.score.attacks().iter().any(|a| a.2.to_string().starts_with("A#")));
}
