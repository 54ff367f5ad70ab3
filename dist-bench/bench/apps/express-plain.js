/** (ref) Express's own cost: the same routes with no sessions and no Redis at all. */
import express from 'express';
import { announceReady, benchServerEnv } from './bench-app.js';
const { port } = benchServerEnv();
let count = 0;
const app = express();
app.disable('x-powered-by');
app.use(express.json());
app.post('/login', (req, res) => {
    res.status(201).json({ user: req.body?.user });
});
app.get('/me', (_req, res) => {
    res.json({ user: 'alice', tenant: 'default', count });
});
app.post('/increment', (_req, res) => {
    res.status(201).json({ count: ++count });
});
const server = app.listen(port, '127.0.0.1', () => announceReady(() => new Promise((resolve) => server.close(() => resolve()))));
