//! A member's event log: ListMemberEvents in pages, and `atone events`.

use atone_api::tonic::Code;
use atone_api::v1::{ListMemberEventsRequest, ListMemberEventsResponse};
use tokio::process::Command;

use atone_testkit::*;

async fn page(
    app: &TestApp,
    user: &str,
    after: i64,
    size: i32,
) -> Result<ListMemberEventsResponse, Code> {
    app.query()
        .await
        .list_member_events(ListMemberEventsRequest {
            user_id: user.into(),
            after_version: after,
            page_size: size,
        })
        .await
        .map(|r| r.into_inner())
        .map_err(|s| s.code())
}

async fn the_event_log_pages_through_a_member_s_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("log");
    buy(&app, &user, 1000).await;
    buy(&app, &user, 2500).await;
    let last = buy(&app, &user, 700).await;
    assert_eq!(last.version, 6);

    let first = page(&app, &user, 0, 4).await.expect("first page");
    let types: Vec<(i64, &str)> = first
        .events
        .iter()
        .map(|e| (e.version, e.event_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            (1, "PurchaseCompleted"),
            (2, "PaymentPromiseCreated"),
            (3, "PurchaseCompleted"),
            (4, "PaymentPromiseCreated")
        ]
    );
    assert_eq!(first.next_after_version, 4);
    let payload =
        atone_api::convert::struct_json(first.events[2].payload.as_ref().expect("a payload"));
    assert_eq!(payload["amount"], 2500, "{payload}");
    assert!(!first.events[0].event_id.is_empty() && first.events[0].occurred_at.is_some());
    let second = page(&app, &user, first.next_after_version, 4)
        .await
        .expect("second page");
    assert_eq!(
        second.events.iter().map(|e| e.version).collect::<Vec<_>>(),
        [5, 6]
    );
    assert_eq!(second.next_after_version, 0, "the last page");
    assert!(
        page(&app, "nobody-here", 0, 0)
            .await
            .expect("empty")
            .events
            .is_empty()
    );
    assert_eq!(
        page(&app, &user, 0, 501).await.err(),
        Some(Code::InvalidArgument)
    );
    assert_eq!(
        page(&app, &user, -1, 0).await.err(),
        Some(Code::InvalidArgument)
    );

    // The same from the command line.
    let addr = app.addr.to_string();
    let run = |json: bool| {
        let mut command = Command::new(atone_binary());
        command.args(["events", &user, "--addr", &addr]);
        if json {
            command.arg("--json");
        }
        command.output()
    };
    let table = run(false).await.expect("atone events");
    assert!(table.status.success(), "{table:?}");
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert_eq!(table.lines().count(), 6, "{table}");
    assert!(
        table
            .lines()
            .nth(2)
            .is_some_and(|l| l.contains("PurchaseCompleted") && l.contains("2500")),
        "{table}"
    );
    let json = run(true).await.expect("atone events --json");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(6));
    assert_eq!(json[5]["eventType"], "PaymentPromiseCreated");
    app.stop().await;
}

on_each_backend!(the_event_log_pages_through_a_member_s_events);
