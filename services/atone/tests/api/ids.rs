//! One member id, compared one way everywhere: byte for byte. An id with whitespace at an
//! end is refused on every surface; the database never takes one id for another; and a
//! row the database refuses for one member parks that member while the others go on.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_api::tonic::Request;
use atone_api::v1::auth_service_client::AuthServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{GetMemberRequest, IssueMemberTokenRequest};
use atone_auth::{MemberTokens, Scope};
use atone_domain::Event;
use atone_storage::entity::{dead_letters, events, members};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use atone_testkit::*;

/// The events stored for exactly `user` (compared by the test, byte for byte).
async fn stream_of(app: &TestApp, user: &str) -> Vec<events::Model> {
    events::Entity::find()
        .all(&app.db)
        .await
        .expect("read the events")
        .into_iter()
        .filter(|e| e.user_id == user)
        .collect()
}

async fn whitespace_at_an_end_is_refused_everywhere(backend: Backend) {
    let keys = TestKeys::create();
    let app = TestApp::spawn_with(backend, keys.configure()).await;
    let channel = app.channel().await;
    let command = |scope| {
        atone_api::v1::command_service_client::CommandServiceClient::with_interceptor(
            channel.clone(),
            Bearer::new(keys.credential(scope)),
        )
    };
    let victim = unique_user("victim");
    command(Scope::Purchases)
        .purchase(purchase(&victim, 1000, "victim-1"))
        .await
        .expect("the victim buys");
    let before = app.event_count().await;

    for spoof in [
        format!("{victim} "),
        format!(" {victim}"),
        format!("{victim}\t"),
        format!("{victim}\u{00A0}"),
        format!("{victim}\u{3000}"),
    ] {
        let refused = command(Scope::Purchases)
            .purchase(purchase(&spoof, 1000, &uuid::Uuid::now_v7().to_string()))
            .await
            .expect_err("a purchase for an id with whitespace at an end");
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{spoof:?}: {refused:?}"
        );
        assert!(refused.message().contains("user_id"), "{refused:?}");
        let token = AuthServiceClient::with_interceptor(
            channel.clone(),
            Bearer::new(keys.credential(Scope::Purchases)),
        )
        .issue_member_token(IssueMemberTokenRequest {
            user_id: spoof.clone(),
            ttl_seconds: 60,
        })
        .await
        .expect_err("a token for an id with whitespace at an end");
        assert_eq!(token.code(), Code::InvalidArgument, "{spoof:?}: {token:?}");
    }
    assert_eq!(app.event_count().await, before, "nothing appended");
    assert_eq!(
        stream_of(&app, &victim).await.len(),
        2,
        "the victim's own two events"
    );

    // A token signed for the padded id (say, before this rule) reads nobody: its own id is
    // refused, and the victim's is another member's.
    let tokens = MemberTokens::new(TEST_TOKEN_SECRET.as_bytes(), Duration::from_secs(600))
        .expect("token signer");
    let (token, _) = tokens
        .issue(&format!("{victim} "), Duration::from_secs(60))
        .expect("a token");
    let mut query = QueryServiceClient::with_interceptor(channel.clone(), Bearer::new(&token));
    for (user_id, code) in [
        (format!("{victim} "), Code::InvalidArgument),
        (victim.clone(), Code::PermissionDenied),
    ] {
        let status = query
            .get_member(Request::new(GetMemberRequest {
                user_id: user_id.clone(),
                min_version: 0,
            }))
            .await
            .expect_err("the padded token reads nobody");
        assert_eq!(status.code(), code, "{user_id:?}: {status:?}");
    }
}

on_each_backend!(whitespace_at_an_end_is_refused_everywhere);

/// Ids that only a PAD SPACE collation (or a case- or width-folding one) would take for
/// each other are different members in the store and in the read models.
async fn the_database_compares_ids_byte_for_byte(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let base = unique_user("b");
    let ids = [
        base.clone(),
        format!("{base} "),
        format!("{base}  "),
        base.to_uppercase(),
    ];
    // Straight into the store, past the API's rule: the database alone must keep them apart.
    for (i, id) in ids.iter().enumerate() {
        append(
            &app.db,
            id,
            purchase_events(&format!("item {i}"), 100 + i as i64),
        )
        .await;
    }
    app.wait_until_projected().await;
    for (i, id) in ids.iter().enumerate() {
        let stream = stream_of(&app, id).await;
        assert_eq!(
            stream.iter().map(|e| e.version).collect::<Vec<_>>(),
            [1, 2],
            "{id:?} has its own stream"
        );
        let row = members::Entity::find()
            .filter(members::Column::UserId.eq(id.as_str()))
            .all(&app.db)
            .await
            .expect("read the members");
        assert_eq!(
            row.len(),
            1,
            "{id:?} matches exactly one member row: {row:?}"
        );
        assert_eq!(row[0].user_id, *id, "and that row is its own");
        assert_eq!(row[0].outstanding_amount, 100 + i as i64, "{id:?}");
    }
    assert_read_models_match_event_store(&app.db).await;
}

on_each_backend!(the_database_compares_ids_byte_for_byte);

/// A member whose events make a row the database refuses as a duplicate (a promise id
/// another member's promise has) is parked; every other member's projection goes on.
async fn a_duplicate_key_parks_its_member_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, copier, bystander) = (
        unique_user("owner"),
        unique_user("copier"),
        unique_user("bystander"),
    );
    let owned = buy(&app, &owner, 1000).await;
    get_member(&app, &owner, owned.version).await;

    let mut copied = purchase_events("copy", 500);
    if let Event::PaymentPromiseCreated(p) = &mut copied[1] {
        p.promise_id = owned.promise_id.parse().expect("a promise id");
    }
    append(&app.db, &copier, copied).await;

    eventually(Duration::from_secs(20), "the copier is parked", || {
        let db = app.db.clone();
        let copier = copier.clone();
        async move {
            let parked = dead_letters::Entity::find()
                .filter(dead_letters::Column::UserId.eq(copier))
                .count(&db)
                .await
                .expect("count dead letters");
            (parked > 0).then_some(())
        }
    })
    .await;
    // The others go on: a new member's purchase reaches the read model.
    let bought = buy(&app, &bystander, 700).await;
    let member = get_member(&app, &bystander, bought.version).await;
    assert_eq!(member.summary.expect("summary").outstanding_amount, 700);
    let owner_now = get_member(&app, &owner, owned.version).await;
    assert_eq!(
        owner_now.summary.expect("summary").outstanding_amount,
        1000,
        "the owner's promise is untouched"
    );
    assert_read_models_match_event_store_except(&app.db, &[&copier]).await;
}

on_each_backend!(a_duplicate_key_parks_its_member_only);

/// The same through an inline append: its read-model rows go in without a savepoint first,
/// the duplicate fails that attempt, and the append is written again with one, which
/// commits the copier's events and parks them; the owner's promise is untouched.
async fn a_duplicate_key_in_an_inline_append_parks_its_member_only(backend: Backend) {
    use atone_storage::EventStore;
    use atone_storage::event_store::CommandMeta;
    use atone_storage::projection::Readable;
    let app = TestApp::spawn(backend).await;
    let (owner, copier) = (unique_user("owner"), unique_user("copier"));
    let owned = buy(&app, &owner, 1000).await;
    let mut copied = purchase_events("copy", 500);
    if let Event::PaymentPromiseCreated(p) = &mut copied[1] {
        p.promise_id = owned.promise_id.parse().expect("a promise id");
    }
    let store =
        EventStore::new(app.db.clone(), 100).projecting_inline(Readable::default(), None, 10, None);
    let meta = CommandMeta {
        idempotency_key: "copy".into(),
        correlation_id: "test".into(),
        trace_parent: String::new(),
        occurred_at: chrono::Utc::now(),
    };
    let before = store.load(&copier).await.expect("load");
    let appended = store
        .append(&copier, &before, copied, &meta)
        .await
        .expect("the events are appended, the projection parks them");
    assert_eq!(appended.len(), 2);
    let parked = dead_letters::Entity::find()
        .filter(dead_letters::Column::UserId.eq(copier.as_str()))
        .count(&app.db)
        .await
        .expect("count dead letters");
    assert_eq!(parked, 2, "both of the copier's events are set aside");
    let owner_now = get_member(&app, &owner, owned.version).await;
    assert_eq!(
        owner_now.summary.expect("summary").outstanding_amount,
        1000,
        "the owner's promise is untouched"
    );
    let bystander = unique_user("bystander");
    let bought = buy(&app, &bystander, 700).await;
    get_member(&app, &bystander, bought.version).await;
    assert_read_models_match_event_store_except(&app.db, &[&copier]).await;
}

on_each_backend!(a_duplicate_key_in_an_inline_append_parks_its_member_only);

/// Two processes deliver one outbox: they take turns for each batch, so a new member's row
/// is never inserted by both (a duplicate key, which would park the member).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn two_processes_delivering_one_outbox_never_take_a_member_for_a_duplicate() {
    let first = TestApp::spawn(Backend::MariaDb).await;
    let second = TestApp::spawn_on(first.database.shared(), |_| {}).await;
    let users: Vec<String> = (0..150).map(|i| unique_user(&format!("new-{i}"))).collect();
    let purchases = users.iter().enumerate().map(|(i, user)| {
        let app = if i % 2 == 0 { &first } else { &second };
        async move { buy(app, user, 100).await }
    });
    futures::future::join_all(purchases).await;
    first.wait_until_projected().await;
    let parked = dead_letters::Entity::find()
        .count(&first.db)
        .await
        .expect("count dead letters");
    assert_eq!(parked, 0, "no member parked");
    assert_read_models_match_event_store(&first.db).await;
    second.stop().await;
    first.stop().await;
}
