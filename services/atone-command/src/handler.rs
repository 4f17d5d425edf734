use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use atone_domain::{Command, Context, Decision, DomainError, Member, Processed, Reply, validate};
use atone_retry::RetryPolicy;
use atone_storage::event_store::Appending;
use atone_storage::{CommandMeta, EventStore, StorageError};
use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, Notify};
use tracing::Instrument;
use uuid::Uuid;

use crate::CommandError;
use crate::appender::{AppendTask, Appender};
use crate::cache::MemberCache;
use crate::clock::SharedClock;
use crate::metric;

#[derive(Debug, Clone)]
pub struct CommandConfig {
    /// ご利用上限額 in yen of a member who has none of their own yet (a member keeps the
    /// limit of their first purchase, or the one `ChangeCreditLimit` gave them).
    pub credit_limit: i64,
    /// The bill-issuing fee of a monthly bill paid at a convenience store, in yen.
    pub bill_fee: i64,
    /// Added once to a bill when it becomes overdue, in yen; 0 for none.
    pub reissue_fee: i64,
    /// The days overdue on which a reminder is recorded.
    pub reminder_days: Vec<i64>,
    /// When banks are open (holidays, 12/31–1/3, and `--bank-closures`).
    pub calendar: atone_domain::Calendar,
    /// Business days the bank needs between a bank-debit bill's issue and its debit.
    pub debit_notice_days: i64,
    /// How often a command is decided again after losing a race to another writer.
    pub max_attempts: u32,
    /// A member snapshot is written every this many events.
    pub snapshot_every: i64,
    /// How long an idempotency key is kept: a retry within it gets the first reply; after
    /// it the key may be used afresh.
    pub idempotency_retention: Duration,
    /// How many members' states are kept in memory between their commands (0: none).
    pub member_cache: usize,
}

impl Default for CommandConfig {
    fn default() -> Self {
        Self {
            credit_limit: atone_domain::DEFAULT_CREDIT_LIMIT,
            bill_fee: atone_domain::DEFAULT_BILL_FEE,
            reissue_fee: 0,
            reminder_days: atone_domain::DEFAULT_REMINDER_DAYS.to_vec(),
            calendar: atone_domain::Calendar::default(),
            debit_notice_days: atone_domain::DEFAULT_DEBIT_NOTICE_DAYS,
            max_attempts: 10,
            snapshot_every: 100,
            idempotency_retention: Duration::from_secs(30 * 24 * 3600),
            member_cache: 10_000,
        }
    }
}

impl CommandConfig {
    /// The pauses between attempts after a lost race: short, as the winner is done already.
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
        }
    }
}

/// Decides and records commands. Cheap to clone.
#[derive(Clone)]
pub struct CommandHandler {
    store: EventStore,
    /// Writes the appends, several commands to a transaction when they come together.
    appender: Appender,
    config: CommandConfig,
    /// Commands of one member queue here instead of racing each other to the database.
    /// Other processes still race; the unique (user_id, version) key settles that.
    stripes: Arc<Stripes>,
    /// The states of the members decided last, checked by version before use.
    cache: Arc<MemberCache>,
    /// Woken after each append: the embedded projector waits on it.
    appended: Arc<Notify>,
    clock: SharedClock,
}

struct Stripes {
    hasher: RandomState,
    locks: Vec<Mutex<()>>,
}

impl Stripes {
    fn new(n: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            locks: (0..n).map(|_| Mutex::new(())).collect(),
        }
    }

    fn of(&self, user_id: &str) -> &Mutex<()> {
        let index = self.hasher.hash_one(user_id) as usize % self.locks.len();
        &self.locks[index]
    }
}

impl CommandHandler {
    /// A handler, and the task that writes its appends: the caller runs it (with the
    /// process's other long-lived tasks); it ends when the last clone of the handler is
    /// dropped.
    pub fn new(
        store: EventStore,
        config: CommandConfig,
        appended: Arc<Notify>,
        clock: SharedClock,
    ) -> (Self, AppendTask) {
        let (appender, task) = Appender::new(store.clone());
        let handler = Self {
            appender,
            cache: Arc::new(MemberCache::new(config.member_cache)),
            store,
            config,
            stripes: Arc::new(Stripes::new(1024)),
            appended,
            clock,
        };
        (handler, task)
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// What `member` makes of `command` at `now`, appending nothing yet.
    fn decide(
        &self,
        member: &Member,
        user_id: &str,
        idempotency_key: &str,
        earlier: Option<Processed>,
        command: &Command,
        now: DateTime<Utc>,
    ) -> Result<Decision, DomainError> {
        let mut new_id = Uuid::now_v7;
        let mut ctx = Context {
            now,
            credit_limit: self.config.credit_limit,
            bill_fee: self.config.bill_fee,
            reissue_fee: self.config.reissue_fee,
            reminder_days: &self.config.reminder_days,
            new_id: &mut new_id,
            calendar: &self.config.calendar,
            debit_notice_days: self.config.debit_notice_days,
        };
        member.handle(
            user_id,
            idempotency_key,
            earlier.as_ref(),
            command,
            &mut ctx,
        )
    }

    /// Decides `command` for `user_id` and appends what it records. A retry with the same
    /// idempotency key answers the first reply (or the first refusal, for one the member's
    /// state decided) and appends nothing.
    pub async fn execute(
        &self,
        user_id: &str,
        idempotency_key: &str,
        command: Command,
        correlation_id: String,
    ) -> Result<Reply, CommandError> {
        self.carry_out(user_id, idempotency_key, command, correlation_id)
            .await
            .map(|done| done.reply)
    }

    /// The same, saying whether this call did the work or answered an earlier one's reply
    /// (what a run over many members counts).
    pub async fn carry_out(
        &self,
        user_id: &str,
        idempotency_key: &str,
        command: Command,
        correlation_id: String,
    ) -> Result<Done, CommandError> {
        validate::user_id(user_id)?;
        validate::idempotency_key(idempotency_key)?;
        let _turn = self.stripes.of(user_id).lock().await;

        let mut backoff = self.config.retry_policy().backoff_state();
        // The state this process decided the member's last command from. It is trusted
        // first, with no read at all: an append from it that is out of date fails on the
        // (user_id, version) key, and a retry of a command it holds fails on the
        // (user_id, key) key; both are decided again from the store. What it refuses or
        // finds nothing to do for is decided again from the store too, before it is
        // answered: another process may have changed the member meanwhile, or done this
        // very command.
        let mut known = self.cache.take(user_id);
        let mut trusted = known.is_some();
        for attempt in 1..=self.config.max_attempts {
            let (member, earlier) = match (known.take(), trusted) {
                (Some(member), true) => (member, None),
                (cached, _) => {
                    // The state first, then the key: a command of this key that another
                    // process commits between the two reads is then found by the second
                    // (read the other way round, the state would show its events while
                    // the key read before them found nothing, and the command would be
                    // decided again on a state that already holds it: a retry refused).
                    let member = match cached {
                        Some(stale) => self.store.catch_up(user_id, stale).await?,
                        None => self.store.load(user_id).await?,
                    };
                    seam::between_state_and_key_reads(user_id, idempotency_key).await;
                    let earlier = self.store.earlier(user_id, idempotency_key).await?;
                    (member, earlier)
                }
            };
            let from_cache = std::mem::take(&mut trusted);
            let answered_before = earlier.is_some();
            let now = self.clock.now();
            let decision = self.decide(&member, user_id, idempotency_key, earlier, &command, now);
            if from_cache
                && !matches!(&decision, Ok(Decision::Append { events, .. }) if !events.is_empty())
            {
                known = Some(member);
                continue;
            }
            let (events, reply) = match decision {
                Err(refused) => {
                    self.cache.put(user_id, member);
                    if answered_before {
                        if !matches!(refused, DomainError::IdempotencyKeyReused { .. }) {
                            metrics::counter!(metric::IDEMPOTENT_REPLAYS).increment(1);
                        }
                        return Err(refused.into());
                    }
                    let Some(kept) = Processed::refusal(&command, &refused) else {
                        return Err(refused.into());
                    };
                    // Kept under the key before it is answered: an earlier attempt of this
                    // command still in flight (on a process paused since, say) then finds
                    // the key taken and carries nothing out.
                    match self
                        .store
                        .keep_refusal(user_id, idempotency_key, &kept, now)
                        .await
                    {
                        Ok(()) => return Err(refused.into()),
                        Err(StorageError::Conflict { .. }) => {
                            metrics::counter!(metric::COMMAND_CONFLICTS).increment(1);
                            tracing::debug!(user_id, attempt, "key kept meanwhile, deciding again");
                            tokio::time::sleep(backoff.next_delay()).await;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(Decision::AlreadyDone(reply)) => {
                    self.cache.put(user_id, member);
                    metrics::counter!(metric::IDEMPOTENT_REPLAYS).increment(1);
                    return Ok(Done {
                        reply,
                        replayed: true,
                    });
                }
                Ok(Decision::Append { events, reply }) if events.is_empty() => {
                    self.cache.put(user_id, member);
                    return Ok(Done {
                        reply,
                        replayed: false,
                    });
                }
                Ok(Decision::Append { events, reply }) => (events, reply),
            };
            let mut after = member.clone();
            let appended = events.len() as u64;
            let span = tracing::info_span!("append", user_id, events = appended);
            let meta = CommandMeta {
                idempotency_key: idempotency_key.to_owned(),
                correlation_id: correlation_id.clone(),
                trace_parent: atone_trace::of(&span),
                occurred_at: now,
            };
            let append = self.appender.append(Appending {
                user_id: user_id.to_owned(),
                before: member,
                events,
                meta,
            });
            match append.instrument(span).await {
                Ok(envelopes) => {
                    for envelope in &envelopes {
                        after.apply(&envelope.recorded);
                    }
                    self.cache.put(user_id, after);
                    self.appended.notify_one();
                    metrics::counter!(metric::COMMANDS_APPENDED).increment(1);
                    metrics::counter!(metric::EVENTS_APPENDED).increment(appended);
                    return Ok(Done {
                        reply,
                        replayed: false,
                    });
                }
                Err(StorageError::Conflict { .. }) if from_cache => {
                    // The state in hand was out of date, or held this command already:
                    // decided again from the store at once (no other writer to wait for).
                    metrics::counter!(metric::STALE_CACHE).increment(1);
                    known = Some(after);
                }
                Err(StorageError::Conflict { .. }) => {
                    metrics::counter!(metric::COMMAND_CONFLICTS).increment(1);
                    tracing::debug!(user_id, attempt, "version conflict, deciding again");
                    known = Some(after);
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CommandError::Contended {
            user_id: user_id.to_owned(),
            attempts: self.config.max_attempts,
        })
    }
}

/// What a command came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub reply: Reply,
    /// True when an earlier command with the same idempotency key did the work, and this
    /// one only answered its reply.
    pub replayed: bool,
}

/// For tests only: a hook between the two reads a command is decided from (the member's
/// state, then its idempotency key), so a test can make another process commit exactly
/// there.
#[doc(hidden)]
pub mod seam {
    use std::collections::HashMap;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{LazyLock, Mutex};

    /// What a hook returns: the work to await before the command goes on.
    pub type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
    type Hook = Box<dyn FnOnce() -> HookFuture + Send>;

    /// Whether any hook was ever registered: until then, a command does not lock the
    /// registry at all.
    static ANY: AtomicBool = AtomicBool::new(false);
    static HOOKS: LazyLock<Mutex<HashMap<(String, String), Hook>>> = LazyLock::new(Mutex::default);

    /// For tests only. Registers a one-shot hook for the command of `user_id` with
    /// `idempotency_key`: the next such command decided from the store awaits it between
    /// reading the member's state and reading the key. Keyed by the command, not only the
    /// member: another command of the member (a billing run of either process, which share
    /// this registry in a test) must not take the hook.
    pub fn on_next_decision(
        user_id: &str,
        idempotency_key: &str,
        hook: impl FnOnce() -> HookFuture + Send + 'static,
    ) {
        HOOKS.lock().unwrap_or_else(|e| e.into_inner()).insert(
            (user_id.to_owned(), idempotency_key.to_owned()),
            Box::new(hook),
        );
        ANY.store(true, Ordering::Release);
    }

    pub(super) async fn between_state_and_key_reads(user_id: &str, idempotency_key: &str) {
        if !ANY.load(Ordering::Acquire) {
            return;
        }
        let hook = HOOKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(user_id.to_owned(), idempotency_key.to_owned()));
        if let Some(hook) = hook {
            hook().await;
        }
    }
}
