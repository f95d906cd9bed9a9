//! What the admin API works on: the store (the configuration is read from it and
//! written back whole, in one transaction, so a change is all or nothing), the engine
//! (told of every applied change, and asked for agents' status changes), the sessions
//! and the live counters.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use switchboard_store::Store;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::session::Sessions;
use crate::config::{Config, ConfigError};
use crate::engine_api::EngineRequest;
use crate::metrics::Metrics;

pub struct Api {
    store: Mutex<Store>,
    engine: mpsc::Sender<EngineRequest>,
    data_dir: PathBuf,
    prompts: PathBuf,
    pub sessions: Arc<Sessions>,
    pub metrics: Arc<Metrics>,
    /// The wallboard's last count of today's calls, and when it was made.
    pub today: Mutex<Option<(std::time::Instant, super::live::Today)>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("prompts", &self.prompts)
            .finish()
    }
}

impl Api {
    pub fn new(
        store: Store,
        engine: mpsc::Sender<EngineRequest>,
        data_dir: PathBuf,
        metrics: Arc<Metrics>,
    ) -> Api {
        Api {
            store: Mutex::new(store),
            engine,
            prompts: data_dir.join(crate::sounds::UPLOADS_DIR),
            data_dir,
            sessions: Arc::new(Sessions::default()),
            metrics,
            today: Mutex::new(None),
        }
    }

    /// Keeps a copy of the configuration as it is now under `backups/`, before something
    /// replaces it whole.
    pub async fn back_up_config(self: &Arc<Self>) -> Result<(), ApiError> {
        let data_dir = self.data_dir.clone();
        self.with_store(move |store| {
            let current = Config::load(store).map_err(config_error)?;
            crate::back_up_config(&data_dir, &current).map_err(ApiError::internal)?;
            Ok(())
        })
        .await
    }

    /// Where the office's uploaded prompts are.
    pub fn prompts(&self) -> &std::path::Path {
        &self.prompts
    }

    /// Runs `read` on the store off the async threads.
    /// Where Switchboard keeps its database and files.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub async fn with_store<R: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&mut Store) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let api = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = api.store.lock().unwrap_or_else(|e| e.into_inner());
            read(&mut store)
        })
        .await?
    }

    /// Logs an agent in or out or puts them on a break, now; not kept over a restart,
    /// like *45 and *46.
    pub async fn set_agent_status(
        &self,
        extension: String,
        status: switchboard_queue::AgentStatus,
    ) -> Result<(), ApiError> {
        let found = self
            .ask_engine(|reply| EngineRequest::AgentStatus {
                extension,
                status,
                reply,
            })
            .await?;
        found
            .then_some(())
            .ok_or_else(|| ApiError::not_found("queue agent with that extension"))
    }

    /// Lets a banned address in again.
    pub async fn lift_ban(&self, ip: std::net::IpAddr) -> Result<(), ApiError> {
        let found = self
            .ask_engine(|reply| EngineRequest::LiftBan { ip, reply })
            .await?;
        found
            .then_some(())
            .ok_or_else(|| ApiError::not_found("ban on that address"))
    }

    /// Puts call `call` through to `to`, as its office phone transferring would
    /// (`leaving`'s phone, else the answering one).
    pub async fn transfer_call(
        &self,
        call: u64,
        to: String,
        leaving: Option<String>,
    ) -> Result<(), ApiError> {
        let refused = |why| invalid(format!("{to} cannot take the call ({why})")).on("to");
        let request = |reply| EngineRequest::TransferCall {
            call,
            to: to.clone(),
            leaving,
            reply,
        };
        self.act_on_call(request, refused).await
    }

    /// Rings `extension`'s phones to join call `call` as a supervisor does.
    pub async fn supervise_call(
        &self,
        call: u64,
        extension: String,
        how: switchboard_core::Supervise,
    ) -> Result<(), ApiError> {
        let request = |reply| EngineRequest::SuperviseCall {
            call,
            extension,
            how,
            reply,
        };
        self.act_on_call(request, |why| invalid(why).on("extension"))
            .await
    }

    /// Asks the engine to act on a call in progress; its refusal becomes `refused`.
    async fn act_on_call(
        &self,
        request: impl FnOnce(CallActionReply) -> EngineRequest,
        refused: impl FnOnce(String) -> ApiError,
    ) -> Result<(), ApiError> {
        match self.ask_engine(request).await? {
            Ok(()) => Ok(()),
            Err(switchboard_core::CallActionError::NotTalking) => {
                Err(ApiError::not_found("call in progress with two parties"))
            }
            Err(switchboard_core::CallActionError::Refused(why)) => Err(refused(why)),
        }
    }

    /// Hangs up call `call`.
    pub async fn hang_up_call(&self, call: u64) -> Result<(), ApiError> {
        let found = self
            .ask_engine(|reply| EngineRequest::HangUpCall { call, reply })
            .await?;
        found
            .then_some(())
            .ok_or_else(|| ApiError::not_found("call in progress"))
    }

    async fn ask_engine<T>(
        &self,
        request: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> EngineRequest,
    ) -> Result<T, ApiError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.engine
            .send(request(reply))
            .await
            .map_err(|_| ApiError::unavailable())?;
        answer.await.map_err(|_| ApiError::unavailable())
    }

    /// The configuration as stored now.
    pub async fn config(self: &Arc<Self>) -> Result<Config, ApiError> {
        self.with_store(|store| Config::load(store).map_err(config_error))
            .await
    }

    /// Loads the configuration, lets `change` edit it, checks the result as a whole and
    /// saves it in one transaction; then the engine takes it up. Changes are made one
    /// at a time, so none is lost to another made at once. `change`'s own errors and
    /// the configuration's are answered as they are.
    pub async fn change_config<R: Send + 'static>(
        self: &Arc<Self>,
        change: impl FnOnce(&mut Config) -> Result<Edit<R>, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let prompts = self.prompts.clone();
        let (result, config) = self
            .with_store(move |store| {
                let mut config = Config::load(store).map_err(config_error)?;
                let Edit { answer, at } = change(&mut config)?;
                let relative = |e: ApiError| match &at {
                    Some(at) => e.under(at),
                    None => e,
                };
                config
                    .validate()
                    .map_err(|problems| relative(ApiError::invalid(problems)))?;
                config
                    .check_prompt_files(&prompts)
                    .map_err(|problems| relative(ApiError::invalid(problems)))?;
                config.apply(store).map_err(config_error)?;
                Ok((answer, config))
            })
            .await?;
        self.engine
            .send(EngineRequest::reload(config).await)
            .await
            .map_err(|_| ApiError::unavailable())?;
        Ok(result)
    }
}

/// What a change answers, and the object it edited ("queues[2]"), whose fields its
/// errors name relative to it.
#[derive(Debug)]
pub struct Edit<R> {
    answer: R,
    at: Option<String>,
}

impl<R> Edit<R> {
    pub fn at(answer: R, at: String) -> Edit<R> {
        Edit {
            answer,
            at: Some(at),
        }
    }

    pub fn whole(answer: R) -> Edit<R> {
        Edit { answer, at: None }
    }
}

pub(super) fn config_error(e: ConfigError) -> ApiError {
    match e {
        ConfigError::Invalid(problems) => ApiError::invalid(problems),
        other => ApiError::internal(other),
    }
}

/// Where the engine answers an action on a call.
type CallActionReply = tokio::sync::oneshot::Sender<Result<(), switchboard_core::CallActionError>>;

fn invalid(message: String) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        message,
    )
}
