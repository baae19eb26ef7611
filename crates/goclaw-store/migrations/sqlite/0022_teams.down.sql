DROP TABLE IF EXISTS team_task_comments;
DROP TABLE IF EXISTS team_tasks;
DROP TABLE IF EXISTS agent_team_members;
DROP TABLE IF EXISTS agent_teams;
DROP TABLE IF EXISTS subagent_tasks;
DROP TABLE IF EXISTS agent_links;
