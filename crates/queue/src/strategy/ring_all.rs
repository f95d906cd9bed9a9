//! Ring all: every candidate rings at once; member order only decides who is listed
//! first, as in [`super::linear`].

pub(super) use super::linear::rank;
