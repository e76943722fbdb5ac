//! Property test of the tokenizer over random vectors: every token lands in its range, and
//! decoding comes back within the range's error bound.
use proptest::prelude::*;
use tdm_workbench::tokenize::{TokenKind, Tokenizer, TokenizerConfig};

fn tok() -> Tokenizer {
    Tokenizer::new(TokenizerConfig::default()).unwrap()
}

proptest! {
    #[test]
    fn steps_round_trip_within_bounds(
        obs in prop::collection::vec(-300.0f64..300.0, 1..70),
        act in prop::collection::vec(-1.0f64..=1.0, 1..25),
        reward in 0.0f64..=1.0,
    ) {
        let t = tok();
        let mut tokens = Vec::new();
        t.encode_step(&obs, &act, reward, &mut tokens).unwrap();
        prop_assert_eq!(tokens.len(), Tokenizer::step_len(obs.len(), act.len()));
        prop_assert_eq!(t.kind(tokens[0]), Some(TokenKind::Separator));
        let step = ((256.0f64 * 100.0 + 1.0).ln() / 1024.0).exp() - 1.0;
        for (i, &x) in obs.iter().enumerate() {
            let tk = tokens[1 + i];
            prop_assert_eq!(t.kind(tk), Some(TokenKind::Observation));
            let back = t.decode_observation(tk).unwrap();
            // Inside the mu-law range the error is at most one bin in companded space.
            if x.abs() < 250.0 {
                prop_assert!((back - x).abs() <= (x.abs() + 0.01) * step + 1e-9, "{} -> {}", x, back);
            }
            prop_assert_eq!(back.signum() == x.signum() || x.abs() < 1e-2, true);
        }
        for (j, &a) in act.iter().enumerate() {
            let tk = tokens[1 + obs.len() + j];
            prop_assert_eq!(t.kind(tk), Some(TokenKind::Action));
            prop_assert!((t.decode_action(tk).unwrap() - a).abs() <= 1.0 / 1024.0 + 1e-12);
        }
        let rt = *tokens.last().unwrap();
        prop_assert_eq!(t.kind(rt), Some(TokenKind::Reward));
        prop_assert!((t.decode_reward(rt).unwrap() - reward).abs() <= 1.0 / 1024.0 + 1e-12);
    }

    #[test]
    fn decode_then_encode_is_the_identity_on_tokens(bin in 0u32..1024) {
        let t = tok();
        prop_assert_eq!(t.encode_observation(t.decode_observation(bin).unwrap()).unwrap(), bin);
        prop_assert_eq!(t.encode_action(t.decode_action(1024 + bin).unwrap()).unwrap(), 1024 + bin);
        prop_assert_eq!(t.encode_reward(t.decode_reward(2048 + bin).unwrap()).unwrap(), 2048 + bin);
    }
}
