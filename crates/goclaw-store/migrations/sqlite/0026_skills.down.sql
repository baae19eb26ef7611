DROP TABLE IF EXISTS skill_user_grants;
DROP TABLE IF EXISTS skill_agent_grants;
DROP TABLE IF EXISTS skills;
