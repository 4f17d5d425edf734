//! The relay packs the events of the members of one shard into one Kinesis record, and a
//! projector reads packed records and records of the single-event form (what earlier
//! relays wrote) alike.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use atone_api::envelope::{self, PACKED_PREFIX};
use atone_delivery::ShardMap;
use atone_domain::Member;
use atone_kinesis::{Kinesis, ReceivedRecord, Record, Start};
use atone_storage::event_store::Appending;
use atone_storage::{CommandMeta, EventStore, outbox};
use sea_orm::{EntityTrait, PaginatorTrait};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn the_relay_packs_a_shard_s_members_into_one_record_and_single_event_records_still_read() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 4).await;
    let database = TestDatabase::migrated(Backend::MariaDb).await;
    let db = database.connect().await;

    // An earlier relay's records: one event each, keyed by the member.
    let early = unique_user("single-form");
    append(&db, &early, purchase_events("before", 1200)).await;
    let rows = outbox::oldest(&db, 10).await.expect("outbox");
    let single: Vec<Record> = rows
        .iter()
        .map(|r| Record::new(&r.user_id, r.envelope.clone()))
        .collect();
    let outcomes = stream.kinesis.put_records(single).await.expect("put");
    assert!(outcomes.iter().all(|o| o.is_ok()));
    outbox::delete(&db, rows.iter().map(|r| r.id))
        .await
        .expect("delete");

    // Forty members' events waiting in the outbox when the relay starts: its first call
    // takes them all.
    let waiting = members("packed", 40);
    for user in &waiting {
        append(&db, user, purchase_events("waiting", 700)).await;
    }

    let cluster = Cluster::start(&database, &stream, 1, "10s").await;
    assert_eq!(member_at(&cluster.query, &early, 2).await.promises.len(), 1);
    // And a live load on top, from eight clients.
    let live = members("live", 16);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));
    run_load(&cluster.command, &live, 96, 8, false, progress).await;
    cluster.wait_until_projected(&db).await;

    let map = ShardMap::of(&stream.kinesis.list_shards().await.expect("shards"));
    let on_stream = read_all(&stream.kinesis).await;
    let mut events = 0;
    let mut waiting_records = HashSet::new();
    let mut last: HashMap<String, i64> = HashMap::new();
    for (shard_id, record) in &on_stream {
        let packed = record.data.starts_with(&PACKED_PREFIX);
        for decoded in envelope::unpack(&record.data) {
            let header = decoded.expect("an envelope").header;
            events += 1;
            if packed {
                assert_eq!(
                    map.shard_of(&header.user_id),
                    Some(shard_id.as_str()),
                    "{} is packed into a record of its own shard",
                    header.user_id
                );
            } else {
                assert_eq!(
                    header.user_id, early,
                    "only the earlier relay's records are single"
                );
            }
            if waiting.contains(&header.user_id) {
                waiting_records.insert((shard_id, &record.sequence_number));
            }
            let before = last
                .insert(header.user_id.clone(), header.version)
                .unwrap_or(0);
            assert_eq!(
                header.version,
                before + 1,
                "{} in version order",
                header.user_id
            );
        }
    }
    let stored = atone_storage::entity::events::Entity::find()
        .count(&db)
        .await
        .expect("count");
    assert_eq!(events, stored, "every event on the stream once");
    let shards_of_waiting: HashSet<&str> = waiting.iter().filter_map(|u| map.shard_of(u)).collect();
    assert_eq!(
        waiting_records.len(),
        shards_of_waiting.len(),
        "the forty waiting members' 80 events went out as one record per shard"
    );
    cluster.assert_no_gap_was_filled();
    assert_applied_in_version_order(&db).await;
    assert_read_models_match_event_store(&db).await;
    cluster.stop().await;
    stream.delete().await;
}

/// After a reshard the relay's listing of the shards is out of date, so a packed record
/// lands on one child while some of its members belong to the other: those members' events
/// go again to their own shard, so every member's events are on its own shard in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn members_of_a_record_put_on_another_shard_after_a_reshard_go_again_to_their_own() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 1).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let cluster = Cluster::start(&database, &stream, 1, "10s").await;
    let db = database.connect().await;
    // The relay lists the one shard when it first publishes.
    let first = unique_user("before-reshard");
    let reply = atone_api::v1::command_service_client::CommandServiceClient::new(
        cluster.command.channel().await,
    )
    .purchase(purchase(&first, 500, "first"))
    .await
    .expect("purchase")
    .into_inner();
    member_at(&cluster.query, &first, reply.version).await;

    let described = stream.kinesis.update_shard_count(2).await.expect("reshard");
    assert_eq!(described.open_shard_count, 2);
    // Twenty members' events reach the outbox together (one transaction); the relay packs
    // them by the listing it has, one shard, into one record that Kinesis puts on one of
    // the children.
    let after = members("after-reshard", 20);
    let batch = after
        .iter()
        .map(|user| Appending {
            user_id: user.clone(),
            before: Member::default(),
            events: purchase_events("after", 600),
            meta: CommandMeta {
                idempotency_key: format!("{user}-after"),
                correlation_id: "test".into(),
                trace_parent: String::new(),
                occurred_at: chrono::Utc::now(),
            },
        })
        .collect();
    for appended in EventStore::new(db.clone(), 100).append_batch(batch).await {
        appended.expect("append");
    }
    cluster.wait_until_projected(&db).await;

    let map = ShardMap::of(&stream.kinesis.list_shards().await.expect("shards"));
    let mut on_own_shard: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut misrouted = 0;
    for (shard_id, record) in read_all(&stream.kinesis).await {
        for decoded in envelope::unpack(&record.data) {
            let header = decoded.expect("an envelope").header;
            let Some(user) = after.iter().find(|u| **u == header.user_id) else {
                continue;
            };
            if map.shard_of(user) == Some(shard_id.as_str()) {
                on_own_shard.entry(user).or_default().push(header.version);
            } else {
                misrouted += 1;
            }
        }
    }
    assert!(
        misrouted > 0,
        "a record went to another shard than the relay's listing said"
    );
    for user in &after {
        assert_eq!(
            on_own_shard.get(user.as_str()),
            Some(&vec![1, 2]),
            "{user}'s events on its own shard, in order"
        );
    }
    cluster.assert_no_gap_was_filled();
    assert_read_models_match_event_store(&db).await;
    cluster.stop().await;
    stream.delete().await;
}

/// Every record of every shard, from the oldest, with its shard.
async fn read_all(kinesis: &Kinesis) -> Vec<(String, ReceivedRecord)> {
    let mut all = Vec::new();
    for shard in kinesis.list_shards().await.expect("shards") {
        let mut iterator = kinesis
            .iterator(&shard.shard_id, Start::TrimHorizon)
            .await
            .expect("iterator");
        loop {
            let out = kinesis.get_records(&iterator, 10_000).await.expect("get");
            if out.records.is_empty() {
                break;
            }
            all.extend(out.records.into_iter().map(|r| (shard.shard_id.clone(), r)));
            match out.next_iterator {
                Some(next) => iterator = next,
                None => break,
            }
        }
    }
    all
}
