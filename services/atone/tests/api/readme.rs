//! The README's grpcurl walkthrough, run exactly as written (placeholder until the README
//! is written).
