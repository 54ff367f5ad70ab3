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
/** (b) Nest's own cost: the same routes with no sessions and no Redis at all. */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { announceReady, benchServerEnv } from './bench-app.js';
let PlainController = class PlainController {
    count = 0;
    login(body) {
        return { user: body.user };
    }
    me() {
        return { user: 'alice', tenant: 'default', count: this.count };
    }
    increment() {
        return { count: ++this.count };
    }
};
__decorate([
    Post('login'),
    __param(0, Body()),
    __metadata("design:type", Function),
    __metadata("design:paramtypes", [Object]),
    __metadata("design:returntype", void 0)
], PlainController.prototype, "login", null);
__decorate([
    Get('me'),
    __metadata("design:type", Function),
    __metadata("design:paramtypes", []),
    __metadata("design:returntype", void 0)
], PlainController.prototype, "me", null);
__decorate([
    Post('increment'),
    __metadata("design:type", Function),
    __metadata("design:paramtypes", []),
    __metadata("design:returntype", void 0)
], PlainController.prototype, "increment", null);
PlainController = __decorate([
    Controller()
], PlainController);
let PlainModule = class PlainModule {
};
PlainModule = __decorate([
    Module({ controllers: [PlainController] })
], PlainModule);
const { port } = benchServerEnv();
const app = await NestFactory.create(PlainModule, { logger: false });
app.disable('x-powered-by');
await app.listen(port, '127.0.0.1');
announceReady(() => app.close());
