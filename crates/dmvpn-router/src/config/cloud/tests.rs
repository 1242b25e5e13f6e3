//! Tests of the cloud check.
