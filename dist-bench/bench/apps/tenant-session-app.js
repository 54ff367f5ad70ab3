var __decorate = (this && this.__decorate) || function (decorators, target, key, desc) {
    var c = arguments.length, r = c < 3 ? target : desc === null ? desc = Object.getOwnPropertyDescriptor(target, key) : desc, d;
    if (typeof Reflect === "object" && typeof Reflect.decorate === "function") r = Reflect.decorate(decorators, target, key, desc);
    else for (var i = decorators.length - 1; i >= 0; i--) if (d = decorators[i]) r = (c < 3 ? d(r) : c > 3 ? d(target, key, r) : d(target, key)) || r;
    return c > 3 && r && Object.defineProperty(target, key, r), r;
};
var __metadata = (this && this.__metadata) || function (k, v) {
    if (typeof Reflect === "object" && typeof Reflect.metadata === "function") return Reflect.metadata(k, v);
};
var __param = (this && this.__param) || function (paramIndex, decorator) {
    return function (target, key) { decorator(target, key, paramIndex); }
};
/**
 * The sample-style app on this module, shared by the HTTP comparison (several tenants by Host),
 * the many-tenants benchmark (tenants by header) and the revocation benchmark.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Session, SessionAuthGuard, SessionRevocationService, Tenant, TenantSessionModule, } from 'nestjs-tenant-session';
import { BENCH_APP_NAME, BENCH_SECRET, IDLE_TTL_SECONDS } from './bench-app.js';
let AccountController = class AccountController {
    sessions;
    constructor(sessions) {
        this.sessions = sessions;
    }
    async login(req, body) {
        await this.sessions.login(req, body.user, { data: { user: body.user } });
        return { user: body.user };
    }
    me(session, tenant) {
        return { user: session.user, tenant, count: session.count ?? 0 };
    }
    increment(req) {
        req.session.count = (req.session.count ?? 0) + 1;
        return { count: req.session.count };
    }
};
__decorate([
    Post('login'),
    __param(0, Req()),
    __param(1, Body()),
    __metadata("design:type", Function),
    __metadata("design:paramtypes", [Object, Object]),
    __metadata("design:returntype", Promise)
], AccountController.prototype, "login", null);
__decorate([
    Get('me'),
    UseGuards(SessionAuthGuard),
    __param(0, Session()),
    __param(1, Tenant()),
    __metadata("design:type", Function),
    __metadata("design:paramtypes", [Object, String]),
    __metadata("design:returntype", void 0)
], AccountController.prototype, "me", null);
__decorate([
    Post('increment'),
    UseGuards(SessionAuthGuard),
    __param(0, Req()),
    __metadata("design:type", Function),
    __metadata("design:paramtypes", [Object]),
    __metadata("design:returntype", void 0)
], AccountController.prototype, "increment", null);
AccountController = __decorate([
    Controller(),
    __metadata("design:paramtypes", [SessionRevocationService])
], AccountController);
export async function createTenantSessionApp(options) {
    let BenchAppModule = class BenchAppModule {
    };
    BenchAppModule = __decorate([
        Module({
            imports: [
                TenantSessionModule.forRoot({
                    appName: BENCH_APP_NAME,
                    secret: BENCH_SECRET,
                    idleTtl: IDLE_TTL_SECONDS,
                    ...options,
                }),
            ],
            controllers: [AccountController],
        })
    ], BenchAppModule);
    const app = await NestFactory.create(BenchAppModule, { logger: false });
    app.disable('x-powered-by');
    return app;
}
