//! TEAM.md: what a run of an agent that belongs to a team is told about it, written by the
//! gateway from the team as stored (not a file anyone edits). The lead learns who its members
//! are (and its reviewers) and that it hands them work and answers the user itself; a member
//! learns who leads and that it does the work it is given and reports back; a reviewer, that it
//! judges the results handed in for review. Agents outside any active team get
//! nothing, and the prompt of a run costs one more indexed read (two when in a team).

use goclaw_core::{Agent, MemberRole, Store, StoreError, TEAM_ACTIVE, Team, TenantId};

/// The TEAM.md section of `agent`'s runs; `None` outside active teams.
pub(crate) async fn team_section(
    store: &dyn Store,
    tenant: TenantId,
    agent: &Agent,
) -> Result<Option<String>, StoreError> {
    let teams: Vec<Team> = store
        .teams()
        .teams_of(tenant, agent.id)
        .await?
        .into_iter()
        .filter(|t| t.status == TEAM_ACTIVE)
        .collect();
    if teams.is_empty() {
        return Ok(None);
    }
    let agents = store.agents().list(tenant).await?;
    let key_of = |id| {
        agents.iter().find(|a| a.id == id).map_or_else(
            || "(a deleted agent)".to_owned(),
            |a| a.agent_key.to_string(),
        )
    };
    let mut text = String::from("# TEAM.md\n");
    for team in &teams {
        let members = store.teams().members(tenant, team.id).await?;
        let with_role = |role: MemberRole| -> Vec<String> {
            members
                .iter()
                .filter(|m| m.role == role && m.agent_id != agent.id)
                .map(|m| key_of(m.agent_id))
                .collect()
        };
        let others = with_role(MemberRole::Member);
        let reviewers = with_role(MemberRole::Reviewer);
        let reviewing = members
            .iter()
            .any(|m| m.agent_id == agent.id && m.role == MemberRole::Reviewer);
        text.push_str(&format!("\n## Team \"{}\"\n", team.name));
        if !team.description.trim().is_empty() {
            text.push_str(&format!("{}\n", team.description.trim()));
        }
        if team.lead_agent_id == agent.id {
            let list = if others.is_empty() {
                "none yet".to_owned()
            } else {
                others.join(", ")
            };
            text.push_str(&format!(
                "You lead this team. Members: {list}.\nHand work to members with the `delegate` tool (or as tasks on the team's board), check what they return, and answer the user yourself.\n"
            ));
            if !reviewers.is_empty() {
                text.push_str(&format!(
                    "Reviewers: {}. They judge results handed in for review; ask them when quality matters.\n",
                    reviewers.join(", ")
                ));
            }
        } else if reviewing {
            text.push_str(&format!(
                "You are a reviewer of this team, led by {}.\nJudge the results members hand in for review (team_tasks approve, or reject with the reason); do not do the work yourself.\n",
                key_of(team.lead_agent_id)
            ));
        } else {
            text.push_str(&format!(
                "You are a member of this team, led by {}.\nDo the work you are given and report the result; do not hand it on or answer for the team.\n",
                key_of(team.lead_agent_id)
            ));
        }
    }
    Ok(Some(text))
}
