//! One scenario, one test per backend.
//!
//! A scenario is an `async fn(Backend)`; [`on_each_backend!`](crate::on_each_backend) makes
//! a module of the same name with a `sqlite` and a `mariadb` test that run it. Plain
//! `cargo test` runs the SQLite one and lists the MariaDB one as ignored, with the reason;
//! `scripts/test` turns the `mariadb-tests` feature of the calling crate on and runs both.

/// For each named scenario, `mod <name> { sqlite, mariadb }`.
///
/// ```ignore
/// async fn resume_gets_exactly_the_missed_changes(backend: Backend) { /* … */ }
/// on_each_backend!(resume_gets_exactly_the_missed_changes);
/// ```
///
/// The calling crate declares a `mariadb-tests` feature: without it the MariaDB test is
/// `#[ignore]`d with a reason that says how to run it. `on_each_backend!(over_kinesis: …)`
/// gates both tests on the crate's `kinesis-tests` feature instead (which turns MariaDB on
/// too).
#[macro_export]
macro_rules! on_each_backend {
    (over_kinesis: $($scenario:ident),+ $(,)?) => {
        $(
            $crate::on_each_backend!(@tests $scenario,
                [cfg_attr(
                    not(feature = "kinesis-tests"),
                    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
                )],
                [cfg_attr(
                    not(feature = "kinesis-tests"),
                    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
                )]
            );
        )+
    };
    ($($scenario:ident),+ $(,)?) => {
        $(
            $crate::on_each_backend!(@tests $scenario,
                [],
                [cfg_attr(
                    not(feature = "mariadb-tests"),
                    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
                )]
            );
        )+
    };
    (@tests $scenario:ident, [$($sqlite:meta)?], [$($mariadb:meta)?]) => {
        mod $scenario {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$sqlite])?
            async fn sqlite() {
                super::$scenario($crate::Backend::Sqlite).await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$mariadb])?
            async fn mariadb() {
                super::$scenario($crate::Backend::MariaDb).await;
            }
        }
    };
}
