//! Command dispatch: loads configuration once and runs the chosen command.

mod agent;
mod backup;
mod channels;
mod client;
mod config;
mod cron;
pub(crate) mod doctor;
mod keys;
mod memory;
mod migrate;
mod onboard;
mod pairing;
mod rpc;
mod secrets;
mod serve;
mod table;
mod traces;
mod upgrade;

use std::process::ExitCode;

use anyhow::Context;
use goclaw_config::{Environment, LoadedConfig};

use crate::cli::{Cli, Command};

pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let env = Environment::from_process();
    match cli.command {
        None | Some(Command::Serve) => serve::run(load(&cli, &env)?, cli.verbose).await,
        Some(Command::Version) => {
            println!("{}", crate::version_line());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Upgrade(ref args)) => {
            upgrade::run(&load(&cli, &env)?, args, cli.verbose).await
        }
        Some(Command::Migrate(ref command)) => {
            migrate::run(&load(&cli, &env)?, command, cli.verbose).await
        }
        Some(Command::Backup(ref args)) => {
            backup::backup(&load(&cli, &env)?, args, cli.verbose).await
        }
        Some(Command::Restore(ref args)) => {
            backup::restore(&load(&cli, &env)?, args, cli.verbose).await
        }
        Some(Command::Config(ref command)) => config::run(cli.config.as_deref(), &env, command),
        Some(Command::Agent(crate::cli::AgentCommand::Chat(ref args))) => {
            let loaded = load(&cli, &env)?;
            agent::chat(&cli, &env, &loaded, args).await
        }
        Some(Command::Secrets(crate::cli::SecretsCommand::RotateKey)) => {
            secrets::rotate_key(&load(&cli, &env)?, &env, cli.verbose).await
        }
        Some(Command::Doctor(ref args)) => doctor::run(cli.config.as_deref(), &env, args).await,
        Some(Command::Onboard(ref args)) => onboard::run(cli.config.as_deref(), &env, args).await,
        Some(Command::Traces(ref command)) => {
            traces::run(&cli, &env, &load(&cli, &env)?, command).await
        }
        Some(Command::Memory(ref command)) => {
            memory::run(&cli, &env, &load(&cli, &env)?, command).await
        }
        Some(Command::Keys(ref command)) => {
            keys::run(&cli, &env, &load(&cli, &env)?, command).await
        }
        Some(Command::Pairing(ref command)) => {
            pairing::run(&cli, &env, &load(&cli, &env)?, command).await
        }
        Some(Command::Channels(ref command)) => {
            channels::run(&cli, &env, &load(&cli, &env)?, command).await
        }
        Some(Command::Cron(ref command)) => {
            cron::run(&cli, &env, &load(&cli, &env)?, command).await
        }
    }
}

fn load(cli: &Cli, env: &Environment) -> anyhow::Result<LoadedConfig> {
    goclaw_config::load(cli.config.as_deref(), env).context("invalid configuration")
}
