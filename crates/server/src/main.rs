use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(windows)]
mod service_manager;

/// Every SIP message is parsed into many small strings; mimalloc serves them faster than
/// the system allocator and hands freed memory back instead of fragmenting.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use switchboard_server::config::{Config, ConfigError};
use switchboard_server::{Listeners, Options, RtpPorts, backup, open_store};

/// Switchboard, the small-office PBX, without a window.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Where the database lives; created on first run.
    #[arg(
        long,
        env = "SWITCHBOARD_DATA_DIR",
        default_value = "switchboard-data",
        global = true
    )]
    data_dir: PathBuf,
    /// SIP address, UDP and TCP on the same port.
    #[arg(long, env = "SWITCHBOARD_SIP_LISTEN", default_value = "0.0.0.0:5060")]
    sip_listen: SocketAddr,
    /// SIP over TLS address; by default the SIP address with the next port (5061).
    #[arg(long, env = "SWITCHBOARD_SIP_TLS_LISTEN")]
    sip_tls_listen: Option<SocketAddr>,
    /// HTTP address of the admin panel, its API and the health endpoint.
    #[arg(
        long,
        env = "SWITCHBOARD_HTTP_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    http_listen: SocketAddr,
    /// HTTPS address of the same, with the SIP over TLS certificate.
    #[arg(
        long,
        env = "SWITCHBOARD_HTTPS_LISTEN",
        default_value = "127.0.0.1:8443"
    )]
    https_listen: SocketAddr,
    /// UDP ports for media, LOW-HIGH.
    #[arg(long, env = "SWITCHBOARD_RTP_PORTS", default_value = "10000-20000")]
    rtp_ports: RtpPorts,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Read or replace the whole configuration as one TOML file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The admin panel's account.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Print the admin API's OpenAPI document (JSON).
    Openapi,
    /// Write the whole office (database, prompts, greetings, voicemail, certificate) to
    /// FILE, a gzipped tar; safe while the server runs and calls go on.
    Backup { file: PathBuf },
    /// Unpack a backup FILE into the data directory, which must be new or empty; then
    /// start the server on it.
    Restore { file: PathBuf },
    /// Run as the Windows service the installer registers (started by the service
    /// manager, not by hand).
    #[cfg(windows)]
    Service,
    /// Print the passwords made at the first run (extensions and the admin panel), for
    /// an install whose first start went to a service log.
    FirstRunInfo,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Replace the admin password with a new generated one and print it (for a lost
    /// password; run it on the PBX's own computer). Admins logged in stay so until the
    /// server restarts.
    ResetPassword,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Write the configuration to FILE, or to standard output. Trunk passwords are left
    /// out (an import keeps the ones stored) unless asked for.
    Export {
        file: Option<PathBuf>,
        /// Include the trunks' passwords.
        #[arg(long)]
        include_secrets: bool,
    },
    /// Lay FILE over the configuration: what it leaves out is kept (settings merge key by
    /// key, extensions, queues and other lists by number or name). The result is checked
    /// whole and nothing changes if any field is wrong; what it replaces is backed up
    /// first under backups/ in the data directory.
    Import {
        file: PathBuf,
        /// Replace the whole configuration with FILE: what it does not mention is deleted.
        #[arg(long)]
        replace: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut cli = Cli::parse();
    let result = match cli.command.take() {
        Some(Command::Config { action }) => config_command(&cli.data_dir, action),
        Some(Command::Admin {
            action: AdminAction::ResetPassword,
        }) => open_store(&cli.data_dir)
            .map_err(|e| (1, e.to_string()))
            .and_then(|mut store| {
                switchboard_server::admin_account::reset_admin_password(&mut store)
                    .map_err(|e| (1, e.to_string()))
            })
            .map(|password| {
                println!(
                    "New admin password: {password}\nUser: {}",
                    switchboard_server::admin_account::ADMIN_USER
                )
            }),
        Some(Command::Openapi) => {
            println!("{}", switchboard_server::openapi_json());
            Ok(())
        }
        Some(Command::Backup { file }) => backup::back_up(&cli.data_dir, &file)
            .map(|contents| println!("{}: {contents}", file.display()))
            .map_err(|e| (1, e.to_string())),
        Some(Command::FirstRunInfo) => first_run_info(&cli.data_dir),
        Some(Command::Restore { file }) => backup::restore(&file, &cli.data_dir)
            .map(|contents| println!("{}: {contents}", cli.data_dir.display()))
            .map_err(|e| (1, e.to_string())),
        #[cfg(windows)]
        Some(Command::Service) => service_manager::run(options(&cli)),
        None => serve(options(&cli), switchboard_server::shutdown_signal()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

fn first_run_info(data_dir: &std::path::Path) -> Result<(), (u8, String)> {
    if !data_dir.join(switchboard_server::DATABASE_FILE).exists() {
        return Err((
            1,
            format!(
                "{}: no office here yet; it is made when Switchboard first starts",
                data_dir.display()
            ),
        ));
    }
    let path = data_dir.join(switchboard_server::FIRST_RUN_FILE);
    let told = std::fs::read_to_string(&path).map_err(|e| {
        (
            1,
            format!(
                "{}: {e}; a forgotten admin password is replaced with \
                 `switchboard-server admin reset-password`",
                path.display()
            ),
        )
    })?;
    println!("As told at the first run (a password changed since is not shown):");
    print!("{told}");
    Ok(())
}

fn options(cli: &Cli) -> Options {
    Options {
        data_dir: cli.data_dir.clone(),
        sip_listen: cli.sip_listen,
        sip_tls_listen: cli.sip_tls_listen,
        http_listen: cli.http_listen,
        https_listen: Some(cli.https_listen),
        rtp_ports: cli.rtp_ports,
    }
}

/// Serves until `shutdown` completes.
fn serve(
    options: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), (u8, String)> {
    let listeners = Listeners::bind(&options).map_err(|e| (1, e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(switchboard_server::run(
            options,
            listeners,
            shutdown,
            |_| {},
        ))
        .map_err(|e| (1, e.to_string()))
}

fn config_command(data_dir: &std::path::Path, action: ConfigAction) -> Result<(), (u8, String)> {
    let fail = |e: switchboard_server::ServerError| (1, e.to_string());
    let mut store = open_store(data_dir).map_err(fail)?;
    match action {
        ConfigAction::Export {
            file,
            include_secrets,
        } => {
            let config = Config::load(&store).map_err(|e| (1, e.to_string()))?;
            let text = match include_secrets {
                true => config,
                false => config.without_secrets(),
            }
            .to_toml();
            match file {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| (1, format!("{}: {e}", path.display())))
                }
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        ConfigAction::Import { file, replace } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| (1, format!("{}: {e}", file.display())))?;
            let prompts = data_dir.join(switchboard_server::PROMPTS_DIR);
            let current = Config::load(&store).map_err(|e| (1, e.to_string()))?;
            let imported = if replace {
                Config::replacing(&current, &text)
            } else {
                Config::merged(&current, &text)
            };
            let config = imported
                .and_then(|c| {
                    c.check_prompt_files(&prompts)
                        .map_err(ConfigError::Invalid)?;
                    Ok(c)
                })
                .map_err(|e| match e {
                    ConfigError::Invalid(_) | ConfigError::Syntax(_) => (
                        2,
                        format!("{}: configuration not imported:\n{e}", file.display()),
                    ),
                    other => (1, other.to_string()),
                })?;
            let backup = switchboard_server::back_up_config(data_dir, &current)
                .map_err(|e| (1, format!("could not back up the configuration: {e}")))?;
            config.apply(&mut store).map_err(|e| (1, e.to_string()))?;
            eprintln!(
                "imported: the office now has {} extensions and {} scenarios; the previous \
                 configuration is in {}; a running server picks the change up on SIGHUP or \
                 restart",
                config.extensions.len(),
                config.scenarios.len(),
                backup.display()
            );
            Ok(())
        }
    }
}
