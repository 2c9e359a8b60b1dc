/* Placeholder so the library exists before the agent lands; removed when it does. */
int burette_agentproto_placeholder;
