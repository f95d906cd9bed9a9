//! Switchboard as a Windows service: the installer registers `switchboard-server
//! --data-dir %ProgramData%\Switchboard service`, which the service manager starts at
//! boot. The manager speaks only to its own entry point, so the options wait in a
//! static for it; Stop and Shutdown end the server as Ctrl-C does elsewhere.

use std::ffi::OsString;
use std::sync::Mutex;
use std::time::Duration;

use switchboard_server::Options;
use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

/// The name the installer registers the service under.
pub const SERVICE_NAME: &str = "Switchboard";

static OPTIONS: Mutex<Option<Options>> = Mutex::new(None);

define_windows_service!(ffi_service_main, service_main);

/// Hands the process to the service manager; returns once the service has stopped.
pub fn run(options: Options) -> Result<(), (u8, String)> {
    *OPTIONS
        .lock()
        .map_err(|_| (1, "options lock".to_string()))? = Some(options);
    service_dispatcher::start(SERVICE_NAME, ffi_service_main).map_err(|e| {
        (
            1,
            format!("not started by the Windows service manager ({e}); run without `service`"),
        )
    })
}

fn service_main(_arguments: Vec<OsString>) {
    if let Err(e) = serve_as_service() {
        tracing::error!("the Switchboard service stopped: {e}");
    }
}

fn serve_as_service() -> Result<(), String> {
    let options = OPTIONS
        .lock()
        .ok()
        .and_then(|mut o| o.take())
        .ok_or("no options")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            let _ = stop.send(true);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status =
        service_control_handler::register(SERVICE_NAME, handler).map_err(|e| e.to_string())?;
    let report = |state, accepted, code| {
        status.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accepted,
            exit_code: ServiceExitCode::Win32(code),
            checkpoint: 0,
            wait_hint: Duration::from_secs(15),
            process_id: None,
        })
    };
    report(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        0,
    )
    .map_err(|e| e.to_string())?;
    let mut stopped = stopped;
    let served = crate::serve(options, async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    });
    let code = if served.is_ok() { 0 } else { 1 };
    let _ = report(ServiceState::Stopped, ServiceControlAccept::empty(), code);
    served.map_err(|(_, message)| message)
}
