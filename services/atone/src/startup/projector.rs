//! A projector, embedded (from the outbox) or reading the Kinesis stream, and
//! ProjectorService reporting on it.

use anyhow::Context;
use atone_api::v1::projector_service_server::ProjectorServiceServer;
use atone_delivery::{
    EmbeddedProjector, KinesisProjector, KinesisProjectorConfig, ProjectorApi, Reconciler,
};
use atone_kinesis::Kinesis;
use atone_lease::LeaseHolder;

use super::{Wiring, instance_name};
use crate::readiness::Projection;
use crate::settings::{KinesisSettings, ProjectorSettings};

pub async fn start(
    wiring: &mut Wiring,
    settings: &ProjectorSettings,
    stream: Option<&KinesisSettings>,
) -> anyhow::Result<()> {
    match (&wiring.kinesis, stream) {
        (Some(kinesis), Some(stream)) => {
            let kinesis = kinesis.clone();
            start_kinesis(wiring, kinesis, settings, stream.enhanced_fan_out).await?;
        }
        _ => {
            let projector = EmbeddedProjector::new(
                wiring.db.clone(),
                wiring.appended.clone(),
                wiring.projected.clone(),
            )
            .reading(settings.readable.clone());
            projector
                .register()
                .await
                .context("cannot register the outbox source")?;
            wiring
                .tasks
                .spawn("projector", projector.run(wiring.shutdown.clone()));
            wiring.projection = Some(Projection::Outbox);
        }
    }
    let reconciler = Reconciler::new(
        LeaseHolder::new(
            wiring.db.clone(),
            instance_name("reconcile"),
            settings.kinesis.lease_duration,
        ),
        settings.reconcile.clone(),
        settings.readable.clone(),
    );
    // A zero interval turns the reconcile off.
    if !settings.reconcile.interval.is_zero() {
        wiring
            .tasks
            .spawn("reconcile", reconciler.run(wiring.shutdown.clone()));
    }
    wiring
        .serve(ProjectorServiceServer::new(
            ProjectorApi::new(wiring.db.clone(), wiring.watchers.clone())
                .reading(settings.readable.clone()),
        ))
        .await;
    Ok(())
}

async fn start_kinesis(
    wiring: &mut Wiring,
    kinesis: Kinesis,
    settings: &ProjectorSettings,
    enhanced_fan_out: bool,
) -> anyhow::Result<()> {
    let fan_out_consumer_arn = if enhanced_fan_out {
        let consumer = kinesis
            .register_consumer("atone-projector")
            .await
            .context("cannot register the enhanced fan-out consumer")?;
        Some(consumer.consumer_arn)
    } else {
        None
    };
    let config = KinesisProjectorConfig {
        fan_out_consumer_arn,
        ..settings.kinesis.clone()
    };
    let owner = settings
        .projector_id
        .clone()
        .unwrap_or_else(|| instance_name("projector"));
    tracing::info!(%owner, "projector reading the stream");
    wiring.projection = Some(Projection::Shards {
        owner: owner.clone(),
    });
    let lease = LeaseHolder::new(wiring.db.clone(), owner, config.lease_duration);
    let projector = KinesisProjector::new(kinesis, lease, config, wiring.projected.clone());
    wiring
        .tasks
        .spawn("projector", projector.run(wiring.shutdown.clone()));
    Ok(())
}
