-- Layer 9 (intrusion detection): several processors in one database.  An
-- administrator sets and reads the limits of its own processor's logins;
-- the limits for '*' (every other role) belong to the installation once
-- there are several processors (see src/registry/85_tenancy.sql).
ALTER TABLE @extschema@.intrusion_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY intrusion_policy_tenant ON @extschema@.intrusion_policy
	USING (@extschema@._role_visible(role_name))
	WITH CHECK (@extschema@._role_visible(role_name));

ALTER TABLE @extschema@.intrusion_counter ENABLE ROW LEVEL SECURITY;
CREATE POLICY intrusion_counter_tenant ON @extschema@.intrusion_counter FOR SELECT
	USING (@extschema@._role_visible(role_name));
