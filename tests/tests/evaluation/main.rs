//! The randomized evaluation, as a provider runs it, an advocate checks it and an evaluator
//! receives it: the enrollment lottery (`lottery`), evaluator extracts (`extract`), and an
//! extract attacked beside the board's tables (`joint`). One test binary for all, to keep CI's
//! link time down.

mod extract;
mod joint;
mod lottery;
