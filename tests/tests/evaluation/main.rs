//! The randomized evaluation, as a provider runs it, an advocate checks it and an evaluator
//! receives it: the enrollment lottery (`lottery`) and evaluator extracts (`extract`). One test
//! binary for both, to keep CI's link time down.

mod extract;
mod lottery;
