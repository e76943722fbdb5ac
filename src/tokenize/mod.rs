//! Gato-style tokenizer (Reed et al., 2022; section 3.1 and Fig. 2 of the paper): one integer
//! token per scalar.
//!
//! Vocabulary (default 1024 bins per range, 3073 tokens):
//!
//! | range | tokens | transform |
//! |---|---|---|
//! | observations | `0 .. 1024` | mu-law (mu = 100, M = 256), clipped to [-1, 1], 1024 uniform bins |
//! | actions | `1024 .. 2048` | clipped to [-1, 1], 1024 uniform bins |
//! | rewards | `2048 .. 3072` | clipped to [-1, 1], 1024 uniform bins (dm_control rewards lie in [0, 1]: bin width 1/512) |
//! | separator | `3072` | starts every environment step |
//!
//! Step layout, used everywhere (datasets, training, planning):
//! `[sep, o_1 .. o_n, a_1 .. a_m, r]`, where `r` is the reward received for taking `a` in `o`.
//! So a dynamics query conditions on `(history, sep, o_t, a_t)` and predicts `r_t`, `sep`
//! (forced) and `o_{t+1}`; a BC policy conditions on `(history, sep, o_t)` and predicts `a_t`.
//!
//! Decoding maps a token to its bin centre through the inverse transform.

mod tokenizer;

pub use tokenizer::{TokenError, TokenKind, Tokenizer, TokenizerConfig};
