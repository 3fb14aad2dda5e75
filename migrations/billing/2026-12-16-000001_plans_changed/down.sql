DROP TRIGGER IF EXISTS plans_changed ON plans;
DROP FUNCTION IF EXISTS notify_plans_changed();
