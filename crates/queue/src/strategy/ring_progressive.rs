//! Ring progressively: member order, as in [`super::linear`]; the engine adds the next
//! agent every step while the earlier ones keep ringing.

pub(super) use super::linear::rank;
